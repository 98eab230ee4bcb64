using System.Diagnostics;
using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Layers;
using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;
using Hivelet.Images.Pulling;
using Hivelet.Images.References;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Archives;

/// <summary>
/// `load`: reads an image archive into the content store, builds or picks the manifest of each image,
/// verifies it, unpacks it and records its names. Records are written last, all together, so a bad
/// archive leaves nothing new in the image list (its blobs stay unreferenced until the next GC).
/// <para>
/// With an OCI index (oci-layout present), names come from the io.containerd.image.name annotation,
/// else from org.opencontainers.image.ref.name when that is a full reference; a bare tag there
/// ("latest") names no repository. Otherwise manifest.json (docker save) is used and a Docker schema 2
/// manifest is built for each entry. An image without any name is recorded as
/// "localhost/untagged@&lt;target digest&gt;" (a dangling image, as `image prune` sees it) and reported
/// by ID, like Docker's &lt;none&gt;:&lt;none&gt;.
/// </para>
/// </summary>
public sealed class ImageLoader
{
    /// <summary>Repository of the records of images loaded without a name.</summary>
    public const string UntaggedRepository = "localhost/untagged";

    public const string ContainerdNameAnnotation = "io.containerd.image.name";
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    private const int MaxIndexDepth = 4;

    private readonly IContentStore _content;
    private readonly ImageStore _images;
    private readonly StoreLock _lock;
    private readonly ImageUnpacker? _unpacker;
    private readonly ImageArchiveReader _reader;
    private readonly PlatformMatcher _matcher;
    private readonly ILogger _logger;

    /// <param name="unpacker">Null loads content and records only (no snapshots; diff_ids of compressed layers unchecked).</param>
    /// <param name="tempDirectory">Scratch space for layers of unknown digest (the store's tmp/).</param>
    public ImageLoader(IContentStore content, ImageStore images, StoreLock storeLock, ImageUnpacker? unpacker,
        string tempDirectory, PlatformMatcher? matcher = null, ILogger? logger = null)
    {
        _content = content;
        _images = images;
        _lock = storeLock;
        _unpacker = unpacker;
        _logger = logger ?? NullLogger.Instance;
        _reader = new ImageArchiveReader(content, tempDirectory, _logger);
        _matcher = matcher ?? new PlatformMatcher();
    }

    /// <summary>The platform chosen from multi-platform indexes (default: this host).</summary>
    public PlatformSpec Platform { get; init; } = HostPlatform.Detect();

    public IReadOnlyList<LoadedImage> Load(Stream archive, string archiveName, CancellationToken ct) =>
        Load(archive, archiveName, NullPullObserver.Instance, ct);

    public IReadOnlyList<LoadedImage> Load(Stream archive, string archiveName, IPullObserver observer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var watch = Stopwatch.StartNew();
        try
        {
            _reader.CleanStaleTemps();
            // The lease keeps `image prune` from collecting blobs between their ingest and the records.
            using var lease = _lock.AcquireLease(StoreLock.DefaultLeaseWait);
            var contents = _reader.Read(archive, archiveName, ct);
            var plans = Plan(contents);
            foreach (var plan in plans)
            {
                ct.ThrowIfCancellationRequested();
                _unpacker?.UnpackAll(plan.Manifest, plan.Config, observer, ct);
            }
            var loaded = new List<LoadedImage>();
            foreach (var plan in plans)
            {
                // Built manifests enter the store last: their presence never implies complete content.
                if (plan.BuiltManifest is { } bytes)
                    _content.Put(plan.ManifestDigest, bytes);
                loaded.Add(Record(plan, archiveName));
            }
            ArchiveLog.LoadDone(_logger, loaded.Count, archiveName, watch.ElapsedMilliseconds);
            return loaded;
        }
        catch (HiveletException e)
        {
            throw new HiveletException($"load {archiveName}", e);
        }
    }

    private LoadedImage Record(ImagePlan plan, string archiveName)
    {
        var recordNames = plan.Names.Count > 0 ? plan.Names : [$"{UntaggedRepository}@{plan.Target.Digest}"];
        var platform = PlatformSpec.From(plan.Config);
        foreach (var name in recordNames)
        {
            _images.Put(new ImageRecord
            {
                Name = name,
                Target = plan.Target,
                ManifestDigest = plan.ManifestDigest,
                ConfigDigest = plan.ConfigDigest,
                Platform = platform.ToPlatform(),
                Created = DateTimeOffset.UtcNow,
            });
            ArchiveLog.Loaded(_logger, name, plan.ConfigDigest.ToString(), archiveName);
        }
        return new LoadedImage(plan.Names, recordNames, plan.ConfigDigest, plan.Target, plan.ManifestDigest, platform);
    }

    private List<ImagePlan> Plan(ArchiveContents contents)
    {
        contents.Files.TryGetValue("index.json", out var index);
        contents.Files.TryGetValue("oci-layout", out var layout);
        contents.Files.TryGetValue("manifest.json", out var dockerManifest);
        List<ImagePlan> plans;
        string format;
        if (index is not null && (layout is not null || dockerManifest is null))
        {
            format = "oci-layout";
            try
            {
                plans = FromIndex(contents, index, layout);
            }
            catch (InvalidInputException e) when (dockerManifest is not null)
            {
                // An image layout may lack blobs (image-layout.md); docker's manifest.json may still be whole.
                ArchiveLog.IndexUnusable(_logger, contents.ArchiveName, e.Message);
                format = "docker-save";
                plans = FromDockerManifest(contents, dockerManifest);
            }
        }
        else if (dockerManifest is not null)
        {
            format = "docker-save";
            plans = FromDockerManifest(contents, dockerManifest);
        }
        else
        {
            throw new InvalidInputException("not an image archive: it has neither manifest.json nor index.json");
        }
        ArchiveLog.ReadDone(_logger, contents.ArchiveName, contents.Files.Count, contents.Links.Count, format);
        if (plans.Count == 0)
            throw new InvalidInputException($"{(format == "docker-save" ? "manifest.json" : "index.json")} lists no images");
        return plans;
    }

    private List<ImagePlan> FromDockerManifest(ArchiveContents contents, ArchiveFile file)
    {
        const string what = "manifest.json";
        var json = contents.ReadSmall(file, ImageArchiveReader.MaxJsonSize, what);
        List<DockerSaveEntry>? entries;
        try
        {
            entries = JsonSerializer.Deserialize(json, ArchiveJsonContext.Default.ListDockerSaveEntry);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{what}: malformed JSON: {e.Message}");
        }
        var plans = new List<ImagePlan>();
        for (int i = 0; i < (entries?.Count ?? 0); i++)
        {
            var entry = entries![i];
            var where = $"{what}[{i}]";
            if (entry is null || string.IsNullOrEmpty(entry.Config))
                throw new InvalidInputException($"{where}: no Config");
            var configDigest = contents.Blob(entry.Config, $"{where}: config");
            var configBytes = ReadBlob(configDigest, ManifestParser.MaxConfigSize, $"{where}: config");
            var layers = new List<Descriptor>();
            for (int j = 0; j < entry.Layers.Count; j++)
            {
                var digest = contents.Blob(entry.Layers[j] ?? "", $"{where}: layer {j}");
                layers.Add(new Descriptor { MediaType = LayerMediaType(digest), Digest = digest.ToString(), Size = _content.GetSize(digest) });
            }
            var manifest = new ImageManifest
            {
                SchemaVersion = 2,
                MediaType = MediaTypes.DockerManifest,
                Config = new Descriptor { MediaType = MediaTypes.DockerConfig, Digest = configDigest.ToString(), Size = configBytes.Length },
                Layers = layers,
            };
            var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ArchiveJson.Oci.ImageManifest);
            var manifestDigest = Digest.ComputeSha256(bytes);
            var target = new Descriptor { MediaType = MediaTypes.DockerManifest, Digest = manifestDigest.ToString(), Size = bytes.Length };
            var plan = Verified(where, target, manifestDigest, manifest, configDigest, configBytes);
            plan.BuiltManifest = bytes;
            foreach (var (tag, k) in (entry.RepoTags ?? []).Select((t, k) => (t, k)))
                AddName(plan, ParseName(tag, $"{where}: RepoTags[{k}]", requireTag: true));
            Merge(plans, plan);
        }
        return plans;
    }

    private List<ImagePlan> FromIndex(ArchiveContents contents, ArchiveFile indexFile, ArchiveFile? layoutFile)
    {
        if (layoutFile is not null)
        {
            var layoutJson = contents.ReadSmall(layoutFile, ImageArchiveReader.MaxJsonSize, "oci-layout");
            OciLayoutFile? layout;
            try
            {
                layout = JsonSerializer.Deserialize(layoutJson, ArchiveJsonContext.Default.OciLayoutFile);
            }
            catch (JsonException e)
            {
                throw new InvalidInputException($"oci-layout: malformed JSON: {e.Message}");
            }
            if (layout?.ImageLayoutVersion != OciLayoutFile.CurrentVersion)
                throw new InvalidInputException($"oci-layout: unsupported imageLayoutVersion \"{layout?.ImageLayoutVersion}\", want {OciLayoutFile.CurrentVersion}");
        }
        var indexJson = contents.ReadSmall(indexFile, ManifestParser.MaxDocumentSize, "index.json");
        ImageIndex index;
        try
        {
            index = ManifestParser.Parse(indexJson, null).Index ?? throw new InvalidInputException("is a manifest, not an image index");
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"index.json: {e.Message}");
        }

        var plans = new List<ImagePlan>();
        for (int i = 0; i < index.Manifests.Count; i++)
        {
            var entry = index.Manifests[i];
            var where = $"index.json: manifests[{i}]";
            if (!MediaTypes.IsIndex(entry.MediaType) && !MediaTypes.IsManifest(entry.MediaType))
            {
                ArchiveLog.EntrySkipped(_logger, entry.Digest, entry.MediaType);
                continue;
            }
            var (manifestDescriptor, manifest) = Choose(entry, where, 0);
            var manifestDigest = manifestDescriptor.ParsedDigest();
            var configDigest = manifest.Config.ParsedDigest();
            var configBytes = ReadBlob(configDigest, ManifestParser.MaxConfigSize, $"{where}: config");
            // Keep the whole index as the target only when every image in it is here; else the manifest.
            var target = MediaTypes.IsIndex(entry.MediaType) && IsComplete(entry, 0) ? entry : manifestDescriptor;
            var plan = Verified(where, Strip(target), manifestDigest, manifest, configDigest, configBytes);
            if (NameFromAnnotations(entry.Annotations, where) is { } name)
                AddName(plan, name);
            Merge(plans, plan);
        }
        return plans;
    }

    /// <summary>The image manifest an index entry leads to: the host's platform, else the first Linux one.</summary>
    private (Descriptor Descriptor, ImageManifest Manifest) Choose(Descriptor entry, string where, int depth)
    {
        if (depth > MaxIndexDepth)
            throw new InvalidInputException($"{where}: indexes nested more than {MaxIndexDepth} deep");
        var digest = Parse(entry, where);
        var bytes = ReadBlob(digest, ManifestParser.MaxDocumentSize, where);
        ParsedDocument doc;
        try
        {
            doc = ManifestParser.Parse(bytes, entry.MediaType);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{where}: {digest}: {e.Message}");
        }
        if (doc.Manifest is { } manifest)
            return (entry, manifest);

        var index = doc.Index!;
        var chosen = _matcher.TrySelect(index, Platform);
        if (chosen is not null)
        {
            ArchiveLog.PlatformChosen(_logger, chosen.Platform?.ToString() ?? "(none)", digest.ToString());
            return Choose(chosen, $"{where}: {chosen.Digest}", depth + 1);
        }
        var nested = index.Manifests.FirstOrDefault(m => MediaTypes.IsIndex(m.MediaType));
        if (nested is not null && !index.Manifests.Any(m => MediaTypes.IsManifest(m.MediaType)))
            return Choose(nested, $"{where}: {nested.Digest}", depth + 1);
        // No manifest for this host: a foreign image may still run through binfmt_misc emulation.
        var foreign = index.Manifests.FirstOrDefault(m => MediaTypes.IsManifest(m.MediaType) &&
            (m.Platform is null || (m.Platform.Os == PlatformSpec.Linux && m.Platform.Architecture != "unknown")));
        if (foreign is null)
            throw new InvalidInputException($"{where}: index {digest} holds no Linux image manifest");
        ArchiveLog.ForeignPlatform(_logger, digest.ToString(), Platform.ToString(), foreign.Platform?.ToString() ?? "(none)");
        return Choose(foreign, $"{where}: {foreign.Digest}", depth + 1);
    }

    /// <summary>Whether the blob of <paramref name="descriptor"/> and everything below it is in the store.</summary>
    private bool IsComplete(Descriptor descriptor, int depth)
    {
        if (depth > MaxIndexDepth || !Digest.TryParse(descriptor.Digest, out var digest) || !_content.Exists(digest))
            return false;
        if (MediaTypes.IsLayer(descriptor.MediaType) || !(MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsManifest(descriptor.MediaType)))
            return true;
        ParsedDocument doc;
        try
        {
            doc = ManifestParser.Parse(StoredImage.ReadAll(_content, digest, ManifestParser.MaxDocumentSize), descriptor.MediaType);
        }
        catch (InvalidInputException)
        {
            return false;
        }
        if (doc.Manifest is { } manifest)
            return IsComplete(manifest.Config, depth + 1) && manifest.Layers.All(l => IsComplete(l, depth + 1));
        return doc.Index!.Manifests.All(m => IsComplete(m, depth + 1));
    }

    /// <summary>Checks what makes an image loadable before anything about it is recorded.</summary>
    private ImagePlan Verified(string where, Descriptor target, Digest manifestDigest, ImageManifest manifest, Digest configDigest,
        byte[] configBytes)
    {
        ImageConfig config;
        try
        {
            config = ManifestParser.ParseConfig(configBytes);
            ManifestParser.CheckLayerCount(manifest, config);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{where}: config {configDigest}: {e.Message}");
        }
        if (config.Os != PlatformSpec.Linux)
            throw new InvalidInputException($"{where}: image {configDigest.Short} is for {config.Os}, only linux images can be loaded");
        var diffIds = ManifestParser.DiffIds(config);
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = manifest.Layers[i];
            var digest = Parse(layer, $"{where}: layer {i}");
            if (!_content.Exists(digest))
                throw new InvalidInputException($"{where}: layer {i} ({digest}) is missing from the archive");
            // An uncompressed layer's blob digest is its diff_id: catch a mismatch now, not half-way through unpacking.
            if (Compression(digest) == LayerCompression.None && digest != diffIds[i])
                throw new DigestMismatchException($"{where}: layer {i} ({digest}) does not match the config's diff_id {diffIds[i]}");
        }
        return new ImagePlan(target, manifestDigest, manifest, configDigest, config);
    }

    private string? NameFromAnnotations(Dictionary<string, string>? annotations, string where)
    {
        if (annotations is null)
            return null;
        if (annotations.TryGetValue(ContainerdNameAnnotation, out var full) && !string.IsNullOrEmpty(full))
            return ParseName(full, $"{where}: annotation {ContainerdNameAnnotation}", requireTag: false);
        // OCI's ref.name is usually just a tag ("latest"), which names no repository.
        if (annotations.TryGetValue(RefNameAnnotation, out var refName) && refName.IndexOfAny([':', '/', '@']) >= 0)
            return ParseName(refName, $"{where}: annotation {RefNameAnnotation}", requireTag: false);
        return null;
    }

    private static string ParseName(string value, string where, bool requireTag)
    {
        if (!ImageReference.TryParse(value, addDefaultTag: false, out var reference, out var error))
            throw new InvalidInputException($"{where}: \"{value}\": {error}");
        if (requireTag && reference.Tag is null)
            throw new InvalidInputException($"{where}: \"{value}\" has no tag");
        return reference.Digest is null ? reference.WithDefaultTag().ToString() : reference.ToString();
    }

    private static void AddName(ImagePlan plan, string name)
    {
        if (!plan.Names.Contains(name, StringComparer.Ordinal))
            plan.Names.Add(name);
    }

    /// <summary>Several tags of one image (docker 25 lists each in index.json) become one plan with several names.</summary>
    private static void Merge(List<ImagePlan> plans, ImagePlan plan)
    {
        var same = plans.FirstOrDefault(p => p.Target.Digest == plan.Target.Digest);
        if (same is null)
        {
            plans.Add(plan);
            return;
        }
        foreach (var name in plan.Names)
            AddName(same, name);
    }

    private LayerCompression Compression(Digest digest)
    {
        using var blob = _content.OpenRead(digest);
        Span<byte> head = stackalloc byte[4];
        int got = blob.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return LayerDecompressor.Detect(head[..got]);
    }

    private string LayerMediaType(Digest digest) => Compression(digest) switch
    {
        LayerCompression.Gzip => MediaTypes.DockerLayerGzip,
        LayerCompression.Zstd => MediaTypes.OciLayerZstd,
        _ => MediaTypes.OciLayer,
    };

    private byte[] ReadBlob(Digest digest, int limit, string where)
    {
        if (!_content.Exists(digest))
            throw new InvalidInputException($"{where}: blob {digest} is missing from the archive");
        try
        {
            return StoredImage.ReadAll(_content, digest, limit);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{where}: {e.Message}");
        }
    }

    private static Digest Parse(Descriptor descriptor, string where) =>
        Digest.TryParse(descriptor.Digest, out var digest, out var error) ? digest : throw new InvalidInputException($"{where}: {error}");

    /// <summary>The record's target without the archive's annotations (they name the archive's tags, not the image).</summary>
    private static Descriptor Strip(Descriptor d) => new() { MediaType = d.MediaType, Digest = d.Digest, Size = d.Size, Platform = d.Platform };

    private sealed class ImagePlan(Descriptor target, Digest manifestDigest, ImageManifest manifest, Digest configDigest, ImageConfig config)
    {
        public Descriptor Target { get; } = target;
        public Digest ManifestDigest { get; } = manifestDigest;
        public ImageManifest Manifest { get; } = manifest;
        public Digest ConfigDigest { get; } = configDigest;
        public ImageConfig Config { get; } = config;
        public List<string> Names { get; } = [];

        /// <summary>The manifest bytes this load built (docker save input); null when the archive had the manifest.</summary>
        public byte[]? BuiltManifest { get; set; }
    }
}
