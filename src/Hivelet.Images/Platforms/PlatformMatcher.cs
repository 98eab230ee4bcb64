using System.Globalization;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Platforms;

/// <summary>
/// Chooses which image of a multi-platform index a host runs, with containerd's fallback order
/// (platforms.Only): arm64 also runs arm/v8…v5, arm/v7 runs v6 and v5, amd64 runs 386.
/// os.version is not compared: it only means something on Windows.
/// </summary>
public sealed class PlatformMatcher
{
    /// <summary>buildkit marks attestation manifests in an index with this annotation.</summary>
    public const string ReferenceTypeAnnotation = "vnd.docker.reference.type";

    private readonly ILogger _logger;
    private readonly bool _allowArm32OnArm64;

    /// <param name="logger">Where selection decisions go; nothing is logged when null.</param>
    /// <param name="allowArm32OnArm64">
    /// Let an arm64 host fall back to 32-bit arm images. Not every arm64 CPU can execute AArch32
    /// code (Cavium ThunderX, Apple M-series cannot), where such an image fails with "exec format error".
    /// </param>
    public PlatformMatcher(ILogger<PlatformMatcher>? logger = null, bool allowArm32OnArm64 = true)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _allowArm32OnArm64 = allowArm32OnArm64;
    }

    /// <summary>The platforms a host of <paramref name="want"/> runs, best first.</summary>
    public IReadOnlyList<PlatformSpec> Preferences(PlatformSpec want)
    {
        if (want.IsEmpty)
            throw new ArgumentException("an empty platform has no preferences", nameof(want));
        var list = new List<PlatformSpec>();
        void Add(string arch, string? variant) => list.Add(PlatformSpec.Create(want.Os, arch, variant, want.OsVersion));

        switch (want.Architecture)
        {
            case "arm64" when TryParseVersion(want.Variant, out int major, out int minor) && major is 8 or 9:
                if (major == 9)
                {
                    for (int m = minor; m >= 1; m--)
                        Add("arm64", $"v9.{m}");
                    Add("arm64", "v9");
                    // A v9.x core implements v8.(x+5) (containerd's arm64variantToVersion).
                    minor += 5;
                }
                for (int m = minor; m >= 1; m--)
                    Add("arm64", $"v8.{m}");
                Add("arm64", "v8");
                if (_allowArm32OnArm64)
                {
                    for (int v = 8; v >= 5; v--)
                        Add("arm", $"v{v}");
                }
                break;
            case "arm" when TryParseVersion(want.Variant, out int major, out int minor) && minor == 0 && major is >= 5 and <= 8:
                for (int v = major; v >= 5; v--)
                    Add("arm", $"v{v}");
                break;
            case "amd64":
                // Microarchitecture levels: v3 runs v3, v2, then baseline amd64 (v1); 386 last.
                int level = want.Variant is null ? 1
                    : TryParseVersion(want.Variant, out int l0, out int sub) && sub == 0 ? l0 : 0;
                if (level == 0)
                    list.Add(want);
                for (int l = level; l >= 2; l--)
                    Add("amd64", $"v{l}");
                Add("amd64", null);
                Add("386", null);
                break;
            default:
                list.Add(want);
                break;
        }
        return list;
    }

    /// <summary>The position of <paramref name="candidate"/> in the preference list, or -1.</summary>
    public int Rank(PlatformSpec want, PlatformSpec candidate)
    {
        return candidate.Os == want.Os ? IndexOf(Preferences(want), candidate) : -1;
    }

    /// <summary>
    /// Whether a single (non-index) image's config fits the host. A config that names no platform
    /// at all counts as compatible: there is nothing to contradict.
    /// </summary>
    public bool IsCompatible(PlatformSpec want, ImageConfig config)
    {
        if (string.IsNullOrEmpty(config.Os) && string.IsNullOrEmpty(config.Architecture))
            return true;
        return Rank(want, PlatformSpec.From(config)) >= 0;
    }

    /// <summary>
    /// The best image manifest of <paramref name="index"/> for <paramref name="want"/>, or null.
    /// Among equal ranks the first entry wins (image-index.md). Entries of unknown media types,
    /// nested indexes and attestations are skipped. An entry without a platform is used only when
    /// no entry names a fitting one; the caller must then check its config with
    /// <see cref="IsCompatible"/>.
    /// </summary>
    public Descriptor? TrySelect(ImageIndex index, PlatformSpec want) => Choose(index, want, offers: null);

    /// <summary>As <see cref="TrySelect"/>, but throws a <see cref="NotFoundException"/> listing what the index offers.</summary>
    public Descriptor Select(ImageIndex index, PlatformSpec want)
    {
        var offers = new List<string>();
        var chosen = Choose(index, want, offers);
        if (chosen is not null)
            return chosen;
        var offered = offers.Count == 0 ? "no runnable platform" : string.Join(", ", offers);
        throw new NotFoundException($"no matching manifest for {want} in the manifest list entries (offers {offered})");
    }

    private Descriptor? Choose(ImageIndex index, PlatformSpec want, List<string>? offers)
    {
        var preferences = Preferences(want);
        Descriptor? best = null;
        PlatformSpec bestSpec = default;
        int bestRank = int.MaxValue;
        Descriptor? withoutPlatform = null;

        foreach (var entry in index.Manifests)
        {
            if (!MediaTypes.IsManifest(entry.MediaType))
            {
                PlatformLog.SkippedMediaType(_logger, entry.Digest, entry.MediaType);
                continue;
            }
            if (IsAttestation(entry))
            {
                PlatformLog.SkippedAttestation(_logger, entry.Digest);
                continue;
            }
            if (entry.Platform is null)
            {
                withoutPlatform ??= entry;
                continue;
            }

            var candidate = PlatformSpec.From(entry.Platform);
            var shown = candidate.ToString();
            if (offers is not null && !offers.Contains(shown))
                offers.Add(shown);
            // Required OS features (Windows "win32k") are never present on a Linux host.
            if (entry.Platform.OsFeatures is { Count: > 0 } || candidate.Os != want.Os)
                continue;

            int rank = IndexOf(preferences, candidate);
            if (rank >= 0 && rank < bestRank)
            {
                best = entry;
                bestSpec = candidate;
                bestRank = rank;
            }
        }

        if (best is not null)
        {
            if (bestRank > 0)
                PlatformLog.Fallback(_logger, bestSpec.ToString(), best.Digest, want.ToString(), bestRank);
            PlatformLog.Selected(_logger, best.Digest, bestSpec.ToString(), want.ToString());
            return best;
        }
        if (withoutPlatform is not null)
        {
            PlatformLog.UsingEntryWithoutPlatform(_logger, want.ToString(), withoutPlatform.Digest);
            return withoutPlatform;
        }
        return null;
    }

    private static int IndexOf(IReadOnlyList<PlatformSpec> preferences, PlatformSpec candidate)
    {
        for (int i = 0; i < preferences.Count; i++)
        {
            if (preferences[i].Architecture == candidate.Architecture && preferences[i].Variant == candidate.Variant)
                return i;
        }
        return -1;
    }

    private static bool IsAttestation(Descriptor entry) =>
        (entry.Annotations is { } a && a.TryGetValue(ReferenceTypeAnnotation, out var type) && type == "attestation-manifest") ||
        (entry.Platform is { Os: "unknown", Architecture: "unknown" });

    /// <summary>"v8" -> (8, 0), "v8.2" -> (8, 2); false for anything else.</summary>
    private static bool TryParseVersion(string? variant, out int major, out int minor)
    {
        major = minor = 0;
        if (variant is null || variant.Length < 2 || variant[0] != 'v')
            return false;
        var body = variant.AsSpan(1);
        int dot = body.IndexOf('.');
        if (dot < 0)
            return int.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out major);
        return int.TryParse(body[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out major) &&
               int.TryParse(body[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out minor);
    }
}
