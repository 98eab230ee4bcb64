using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Hivelet.Errors;

namespace Hivelet.Images.Oci;

/// <summary>
/// Reads manifests, indexes and image configs from untrusted bytes. Everything a later step will
/// use as a path, a count or a type is checked here, so that the rest of the puller can trust
/// what it gets. Errors are <see cref="InvalidInputException"/>s naming the document kind and
/// the offending field; callers put the reference or digest in front.
/// </summary>
public static class ManifestParser
{
    /// <summary>The manifest size registries and clients must support (distribution-spec); containerd's cap.</summary>
    public const int MaxDocumentSize = 4 * 1024 * 1024;

    /// <summary>Configs carry history and labels and may be larger; still bounded (CVE-2023-25153).</summary>
    public const int MaxConfigSize = 8 * 1024 * 1024;

    private const string Document = "manifest document";
    private const string Index = "image index";
    private const string Manifest = "image manifest";
    private const string Config = "image config";

    public static ParsedDocument Parse(ReadOnlySpan<byte> body, string? contentType)
    {
        if (body.Length > MaxDocumentSize)
            throw Invalid(Document, $"{body.Length} bytes is over the {MaxDocumentSize} byte limit");
        if (body.IsEmpty)
            throw Invalid(Document, "empty body");

        var probe = Deserialize(body, ManifestJsonContext.Default.DocumentProbe, Document);
        var contentMediaType = MediaTypes.Normalize(contentType);
        var embedded = string.IsNullOrEmpty(probe.MediaType) ? null : probe.MediaType;

        if (MediaTypes.IsSchema1(contentMediaType) || MediaTypes.IsSchema1(embedded) ||
            probe.FsLayers is not null || probe.SchemaVersion == 1)
        {
            throw Invalid(Document,
                "unsupported: Docker schema 1 manifests are deprecated and no longer supported; " +
                "the image must be pushed again with a current Docker or buildkit");
        }
        if (probe.SchemaVersion != 2)
            throw Invalid(Document, $"unsupported schemaVersion {probe.SchemaVersion}, want 2");

        var mediaType = DecideMediaType(probe, contentMediaType, embedded);
        if (MediaTypes.IsIndex(mediaType))
        {
            var index = Deserialize(body, ManifestJsonContext.Default.ImageIndex, Index);
            ValidateIndex(index);
            return ParsedDocument.ForIndex(mediaType, index);
        }
        var manifest = Deserialize(body, ManifestJsonContext.Default.ImageManifest, Manifest);
        ValidateManifest(manifest);
        return ParsedDocument.ForManifest(mediaType, manifest);
    }

    /// <summary>Reads an image config and checks what unpacking relies on: rootfs and its diff_ids.</summary>
    public static ImageConfig ParseConfig(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxConfigSize)
            throw Invalid(Config, $"{body.Length} bytes is over the {MaxConfigSize} byte limit");
        if (body.IsEmpty)
            throw Invalid(Config, "empty body");

        var probe = Deserialize(body, ManifestJsonContext.Default.ConfigProbe, Config);
        if (probe.RootFs is not { ValueKind: JsonValueKind.Object } rootFs)
            throw Invalid(Config, "no rootfs object");
        if (!rootFs.TryGetProperty("diff_ids", out var diffIds) || diffIds.ValueKind != JsonValueKind.Array)
            throw Invalid(Config, "no rootfs.diff_ids array");
        var config = Deserialize(body, ManifestJsonContext.Default.ImageConfig, Config);

        if (string.IsNullOrEmpty(config.Os))
            throw Invalid(Config, "no os");
        if (string.IsNullOrEmpty(config.Architecture))
            throw Invalid(Config, "no architecture");
        if (config.RootFs is null || config.RootFs.DiffIds is null)
            throw Invalid(Config, "no rootfs.diff_ids array");
        if (config.RootFs.Type != "layers")
            throw Invalid(Config, $"rootfs.type \"{config.RootFs.Type}\" is not \"layers\"");
        _ = DiffIds(config);
        return config;
    }

    /// <summary>The config's diff_ids, parsed; index i pairs with manifest layer i.</summary>
    public static IReadOnlyList<Digest> DiffIds(ImageConfig config)
    {
        var ids = config.RootFs?.DiffIds ?? throw Invalid(Config, "no rootfs.diff_ids array");
        var result = new Digest[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            if (!Digest.TryParse(ids[i], out result[i], out var error))
                throw Invalid(Config, $"rootfs.diff_ids[{i}]: {error}");
        }
        return result;
    }

    /// <summary>Each manifest layer needs exactly one diff_id to verify its unpacked content against.</summary>
    public static void CheckLayerCount(ImageManifest manifest, ImageConfig config)
    {
        int diffIds = config.RootFs?.DiffIds?.Count ?? 0;
        if (manifest.Layers.Count != diffIds)
            throw Invalid(Manifest, $"{manifest.Layers.Count} layers but the config lists {diffIds} diff_ids");
    }

    private static string DecideMediaType(DocumentProbe probe, string contentMediaType, string? embedded)
    {
        bool contentTypeKnown = MediaTypes.IsIndex(contentMediaType) || MediaTypes.IsManifest(contentMediaType);
        // Registries and files that cannot say what the document is; the fields must tell then.
        bool contentTypeGeneric = contentMediaType is "" or "application/json" or "application/octet-stream" or "text/plain";
        if (!contentTypeKnown && !contentTypeGeneric)
            throw Invalid(Document, $"unsupported content type \"{contentMediaType}\"");
        if (embedded is not null && !MediaTypes.IsIndex(embedded) && !MediaTypes.IsManifest(embedded))
            throw Invalid(Document, $"unsupported mediaType \"{embedded}\"");
        if (contentTypeKnown && embedded is not null && embedded != contentMediaType)
            throw Invalid(Document, $"content type \"{contentMediaType}\" does not match the embedded mediaType \"{embedded}\"");

        bool hasManifests = IsPresent(probe.Manifests);
        bool hasLayers = IsPresent(probe.Layers);
        bool hasConfig = IsPresent(probe.Config);
        // CVE-2021-41190: a document readable as both kinds can mean different images to different clients.
        if (hasManifests && (hasLayers || hasConfig))
            throw Invalid(Document, "ambiguous: has both \"manifests\" and \"layers\"/\"config\"");

        var mediaType = embedded ?? (contentTypeKnown ? contentMediaType : null);
        if (mediaType is null)
        {
            if (!hasManifests && !hasConfig)
                throw Invalid(Document, "neither an index (no \"manifests\") nor a manifest (no \"config\")");
            mediaType = hasManifests ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }
        if (MediaTypes.IsIndex(mediaType))
        {
            if (hasLayers || hasConfig)
                throw Invalid(Index, $"declared {mediaType} but has \"layers\"/\"config\"");
            if (!hasManifests)
                throw Invalid(Index, "no \"manifests\" array");
        }
        else
        {
            if (hasManifests)
                throw Invalid(Manifest, $"declared {mediaType} but has \"manifests\"");
            if (!hasConfig)
                throw Invalid(Manifest, "no \"config\" descriptor");
            if (!hasLayers)
                throw Invalid(Manifest, "no \"layers\" array");
        }
        return mediaType;
    }

    private static void ValidateIndex(ImageIndex index)
    {
        for (int i = 0; i < index.Manifests.Count; i++)
            ValidateDescriptor(index.Manifests[i], Index, $"manifests[{i}]");
    }

    private static void ValidateManifest(ImageManifest manifest)
    {
        ValidateDescriptor(manifest.Config, Manifest, "config");
        if (manifest.Config.MediaType is not (MediaTypes.OciConfig or MediaTypes.DockerConfig))
        {
            throw Invalid(Manifest,
                $"config media type \"{manifest.Config.MediaType}\" is not a container image config (an OCI artifact?)");
        }
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = manifest.Layers[i];
            ValidateDescriptor(layer, Manifest, $"layers[{i}]");
            if (!MediaTypes.IsLayer(layer.MediaType))
                throw Invalid(Manifest, $"layers[{i}]: unsupported layer media type \"{layer.MediaType}\"");
        }
        if (manifest.Subject is { } subject)
            ValidateDescriptor(subject, Manifest, "subject");
    }

    private static void ValidateDescriptor(Descriptor? descriptor, string kind, string field)
    {
        if (descriptor is null)
            throw Invalid(kind, $"{field}: null descriptor");
        if (string.IsNullOrEmpty(descriptor.MediaType))
            throw Invalid(kind, $"{field}: no mediaType");
        if (!Digest.TryParse(descriptor.Digest, out _, out var error))
            throw Invalid(kind, $"{field}: {error}");
        if (descriptor.Size < 0)
            throw Invalid(kind, $"{field}: negative size {descriptor.Size}");
    }

    private static bool IsPresent(JsonElement? element) =>
        element is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) };

    private static T Deserialize<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> type, string kind)
        where T : class
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException e)
        {
            throw Invalid(kind, "malformed JSON: " + Describe(e));
        }
        return value ?? throw Invalid(kind, "malformed JSON: the document is null, not an object");
    }

    /// <summary>The parser's reason and position, without .NET type names.</summary>
    private static string Describe(JsonException e)
    {
        var reason = e.Message;
        int cut = reason.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
            cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
            reason = reason[..cut];
        // Keep .NET type names out of user-facing text; the position below says where the problem is.
        int typeName = reason.IndexOf(" of type '", StringComparison.Ordinal);
        if (typeName >= 0)
            reason = reason[..typeName];
        if (reason.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
            reason = "a value has the wrong JSON type";
        var where = e.Path is { Length: > 0 } path ? $" at {path}" : "";
        if (e.LineNumber is { } line)
            where += $" (line {line + 1}, byte {e.BytePositionInLine ?? 0})";
        return reason.TrimEnd('.') + where;
    }

    private static InvalidInputException Invalid(string kind, string detail) => new($"{kind}: {detail}");
}
