using System.Diagnostics.CodeAnalysis;
using Hivelet.Errors;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Platforms;

/// <summary>
/// A normalised platform: lower-case, GOOS/GOARCH names, and the implicit variants made explicit
/// (arm64 is "v8" unless said otherwise, arm is "v7"), so that two specs describing the same
/// platform are equal. Rules follow containerd/platforms normalizeArch, except that the arm64
/// default variant is kept visible because Docker prints "linux/arm64/v8".
/// </summary>
public readonly record struct PlatformSpec
{
    public const string Linux = "linux";

    private PlatformSpec(string os, string architecture, string? variant, string? osVersion)
    {
        Os = os;
        Architecture = architecture;
        Variant = variant;
        OsVersion = osVersion;
    }

    public string Os { get; }
    public string Architecture { get; }

    /// <summary>"v8", "v7", …; null for architectures without a variant (amd64 v1, 386, …).</summary>
    public string? Variant { get; }

    /// <summary>Only meaningful on Windows; carried along so nothing is lost.</summary>
    public string? OsVersion { get; }

    public bool IsEmpty => Os is null;

    /// <summary>Builds a normalised spec from raw fields ("Linux", "aarch64", "8" -> linux/arm64/v8).</summary>
    public static PlatformSpec Create(string? os, string? architecture, string? variant = null, string? osVersion = null)
    {
        var (arch, normalizedVariant) = NormalizeArchitecture(architecture ?? "", variant);
        return new PlatformSpec(
            NormalizeOs(os),
            arch,
            normalizedVariant,
            string.IsNullOrEmpty(osVersion) ? null : osVersion);
    }

    public static PlatformSpec From(Platform platform) =>
        Create(platform.Os, platform.Architecture, platform.Variant, platform.OsVersion);

    public static PlatformSpec From(ImageConfig config) =>
        Create(config.Os, config.Architecture, config.Variant, config.OsVersion);

    /// <summary>
    /// Parses "os/arch[/variant]" or a bare architecture ("arm64" means linux/arm64/v8). An OS may
    /// carry its version in parentheses: "windows(10.0.17763)/amd64".
    /// </summary>
    public static PlatformSpec Parse(string value)
    {
        if (TryParse(value, out var spec, out var error))
            return spec;
        throw new InvalidInputException(error);
    }

    public static bool TryParse(string? value, out PlatformSpec spec) => TryParse(value, out spec, out _);

    public static bool TryParse(string? value, out PlatformSpec spec, [NotNullWhen(false)] out string? error)
    {
        spec = default;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "invalid platform \"\": expected os/arch[/variant]";
            return false;
        }

        var parts = value.Split('/');
        string? osVersion = null;
        var os = parts[0];
        int open = os.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0 && parts.Length > 1)
        {
            if (!os.EndsWith(')'))
            {
                error = $"invalid platform \"{value}\": unterminated os version";
                return false;
            }
            osVersion = os[(open + 1)..^1];
            os = os[..open];
        }

        foreach (var part in parts.Skip(1).Prepend(os))
        {
            if (!IsComponent(part))
            {
                error = $"invalid platform \"{value}\": component \"{part}\" may only hold letters, digits, '_', '.' and '-'";
                return false;
            }
        }

        switch (parts.Length)
        {
            case 1 when IsKnownArchitecture(os):
                spec = Create(Linux, os);
                break;
            case 1:
                error = $"invalid platform \"{value}\": expected os/arch[/variant]";
                return false;
            case 2:
                spec = Create(os, parts[1], null, osVersion);
                break;
            case 3:
                spec = Create(os, parts[1], parts[2], osVersion);
                break;
            default:
                error = $"invalid platform \"{value}\": too many components";
                return false;
        }
        error = null;
        return true;
    }

    /// <summary>"linux/arm64/v8", "linux/amd64".</summary>
    public override string ToString()
    {
        if (IsEmpty)
            return "";
        var os = OsVersion is null ? Os : $"{Os}({OsVersion})";
        return Variant is null ? $"{os}/{Architecture}" : $"{os}/{Architecture}/{Variant}";
    }

    public Platform ToPlatform() => new()
    {
        Os = Os,
        Architecture = Architecture,
        Variant = Variant,
        OsVersion = OsVersion,
    };

    private static string NormalizeOs(string? os)
    {
        if (string.IsNullOrEmpty(os))
            return Linux;
        var lower = os.ToLowerInvariant();
        return lower == "macos" ? "darwin" : lower;
    }

    /// <summary>containerd's normalizeArch plus the uname spellings ("armv7l", "i686").</summary>
    private static (string Architecture, string? Variant) NormalizeArchitecture(string architecture, string? variant)
    {
        var arch = architecture.ToLowerInvariant();
        var v = string.IsNullOrEmpty(variant) ? "" : variant.ToLowerInvariant();
        switch (arch)
        {
            case "i386" or "i486" or "i586" or "i686" or "x86":
                return ("386", NullIfEmpty(v));
            case "x86_64" or "x86-64" or "amd64" or "x64":
                return ("amd64", v is "" or "v1" or "1" ? null : WithV(v));
            case "aarch64" or "arm64" or "armv8b" or "aarch64_be":
                return ("arm64", v switch
                {
                    "" or "8" or "v8" or "8.0" or "v8.0" => "v8",
                    "9" or "v9" or "9.0" or "v9.0" => "v9",
                    _ => WithV(v),
                });
            case "armhf" or "armv7l" or "armv7":
                return ("arm", "v7");
            case "armel" or "armv6l" or "armv6":
                return ("arm", "v6");
            case "armv5l" or "armv5tel" or "armv5tejl" or "armv5":
                return ("arm", "v5");
            case "armv8l":
                return ("arm", "v8");
            case "arm":
                return ("arm", v is "" or "7" ? "v7" : WithV(v));
            default:
                return (arch, NullIfEmpty(v));
        }
    }

    private static bool IsKnownArchitecture(string value) =>
        NormalizeArchitecture(value, null).Architecture is
            "386" or "amd64" or "arm64" or "arm" or "ppc64le" or "s390x" or "riscv64" or "loong64" or "mips64le";

    private static string WithV(string variant) =>
        variant.Length > 0 && char.IsAsciiDigit(variant[0]) ? "v" + variant : variant;

    private static string? NullIfEmpty(string v) => v.Length == 0 ? null : v;

    private static bool IsComponent(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
}
