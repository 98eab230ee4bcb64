using System.Text.Json;
using Hivelet.Images.Oci;
using Hivelet.Images.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Content;

/// <summary>
/// Mark and sweep over the content store. Roots are the image records; from each target the walk
/// follows indexes to manifests and manifests to their config and layers, collecting the chain IDs
/// of every config it reaches. Everything else in blobs/ is removed; partial ingests are left alone.
/// <para>
/// The whole run holds the <see cref="StoreLock"/> exclusively, so it never overlaps a pull (which
/// holds a lease until its record is written). With an <see cref="ISnapshotter"/>, snapshots whose
/// chain no record reaches are removed too.
/// </para>
/// <para>
/// <see cref="Users"/> (containers) are roots as well: an image a container uses keeps its config, its
/// layer chains and, when a manifest in the store names that config, the manifest and its layer blobs,
/// even after `rmi -f` removed its last record.
/// </para>
/// </summary>
public sealed class GarbageCollector
{
    // Manifests are capped at 4 MiB by registries; configs with long histories can be larger.
    private const long MaxDocumentSize = 16 << 20;

    private readonly IContentStore _content;
    private readonly ImageStore _images;
    private readonly StoreLock _lock;
    private readonly ISnapshotter? _snapshotter;
    private readonly ILogger _logger;

    public GarbageCollector(IContentStore content, ImageStore images, StoreLock storeLock, ISnapshotter? snapshotter = null, ILogger? logger = null)
    {
        _content = content;
        _images = images;
        _lock = storeLock;
        _snapshotter = snapshotter;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>How long to wait for running pulls to release their leases before failing.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Layer size figures to forget along with the layers no image has (optional).</summary>
    public LayerSizes? Sizes { get; init; }

    /// <summary>Containers (or other users) whose images are roots; null = none.</summary>
    public IImageUsers? Users { get; init; }

    public GcResult Collect(bool dryRun)
    {
        using var held = _lock.AcquireExclusive(LockWait);
        _logger.GcStarted(dryRun);

        var walk = new Walk(_content, _logger);
        foreach (var record in _images.List())
        {
            walk.Visit(record.Target.ParsedDigest(), record.Target.MediaType);
            walk.Visit(record.ManifestDigest, MediaTypes.IsIndex(record.Target.MediaType) ? null : record.Target.MediaType);
            walk.Visit(record.ConfigDigest, MediaTypes.OciConfig);
        }
        var orphans = new HashSet<Digest>();
        foreach (var user in Users?.List() ?? [])
        {
            if (!walk.Live.Contains(user.ImageId))
                orphans.Add(user.ImageId);
            walk.Visit(user.ImageId, MediaTypes.OciConfig);
            if (user.TopChainId is { } top)
                walk.ChainIds.Add(top);
        }
        // Only images no record reaches cost this scan of the unmarked documents.
        if (orphans.Count > 0)
            walk.VisitManifestsOf(orphans, _content.List().ToList());

        int scanned = 0;
        long freed = 0;
        var removed = new List<Digest>();
        foreach (var digest in _content.List().ToList())
        {
            scanned++;
            if (walk.Live.Contains(digest))
                continue;
            long size = SizeOrZero(digest);
            if (!dryRun && !_content.Delete(digest))
                continue;
            removed.Add(digest);
            freed += size;
            _logger.GcBlobRemoved(digest.ToString(), size);
        }

        var removedSnapshots = new List<Digest>();
        if (_snapshotter is not null)
        {
            // A snapshot cannot go while a child builds on it, so dead chains go top-down: each pass
            // removes what nothing stands on, until a pass makes no progress. What is left is in use
            // (a container on it) and stays.
            var dead = _snapshotter.List().Where(c => !walk.ChainIds.Contains(c)).ToList();
            bool progress = true;
            while (dead.Count > 0 && progress)
            {
                progress = false;
                foreach (var chain in dead.ToList())
                {
                    try
                    {
                        if (dryRun || _snapshotter.Remove(chain))
                        {
                            removedSnapshots.Add(chain);
                            _logger.GcSnapshotRemoved(chain.ToString());
                        }
                        dead.Remove(chain);
                        progress = true;
                    }
                    catch (SnapshotInUseException)
                    {
                        // Retried in the next pass, after its children are gone.
                    }
                }
            }
        }

        if (!dryRun)
            Sizes?.RemoveAllBut(walk.DiffIds);

        _logger.GcDone(removed.Count, scanned, freed, walk.ChainIds.Count, dryRun);
        return new GcResult
        {
            DryRun = dryRun,
            BlobsScanned = scanned,
            BlobsRemoved = removed.Count,
            BytesFreed = freed,
            RemovedBlobs = removed,
            LiveBlobs = walk.Live,
            MissingBlobs = walk.Missing,
            LiveChainIds = walk.ChainIds,
            RemovedSnapshots = removedSnapshots,
        };
    }

    private long SizeOrZero(Digest digest)
    {
        try
        {
            return _content.GetSize(digest);
        }
        catch (Errors.NotFoundException)
        {
            return 0;
        }
    }

    /// <summary>The mark phase: which blobs and chains the records reach.</summary>
    private sealed class Walk(IContentStore content, ILogger logger)
    {
        public HashSet<Digest> Live { get; } = [];
        public HashSet<Digest> ChainIds { get; } = [];
        public HashSet<Digest> DiffIds { get; } = [];
        public int Missing { get; private set; }

        /// <summary>Marks <paramref name="digest"/> and what it references; null media type means "find out".</summary>
        public void Visit(Digest digest, string? mediaType)
        {
            // Depth is bounded by the document shapes (index -> manifest -> config/layer), but an
            // index may list indexes; an explicit stack keeps hostile nesting off the call stack.
            var stack = new Stack<(Digest Digest, string? MediaType)>();
            stack.Push((digest, mediaType));
            while (stack.Count > 0)
            {
                var (d, type) = stack.Pop();
                if (!Live.Add(d))
                    continue;
                if (!content.Exists(d))
                {
                    Missing++;
                    continue;
                }
                if (MediaTypes.IsLayer(type))
                    continue;
                foreach (var child in Children(d, type))
                    stack.Push(child);
            }
        }

        /// <summary>Marks the manifests among <paramref name="candidates"/> whose config is one of <paramref name="configs"/>.</summary>
        public void VisitManifestsOf(HashSet<Digest> configs, IEnumerable<Digest> candidates)
        {
            foreach (var digest in candidates)
            {
                if (Live.Contains(digest) || content.GetSize(digest) > MaxDocumentSize)
                    continue;
                var bytes = ReadDocument(digest);
                // Layers are compressed or tar; only JSON documents are worth parsing.
                if (bytes.Length == 0 || bytes[0] != (byte)'{')
                    continue;
                try
                {
                    var kind = Probe(bytes);
                    if (!MediaTypes.IsManifest(kind))
                        continue;
                    var manifest = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageManifest)!;
                    if (Digest.TryParse(manifest.Config.Digest, out var config, out _) && configs.Contains(config))
                        Visit(digest, kind);
                }
                catch (Exception e) when (e is JsonException or Errors.HiveletException)
                {
                    // Not a manifest: left to the sweep like any other unreached blob.
                }
            }
        }

        private byte[] ReadDocument(Digest digest)
        {
            using var stream = content.OpenRead(digest);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }

        private IEnumerable<(Digest, string?)> Children(Digest digest, string? mediaType)
        {
            if (content.GetSize(digest) > MaxDocumentSize)
                return [];
            var bytes = ReadDocument(digest);
            var kind = mediaType;
            try
            {
                if (string.IsNullOrEmpty(kind))
                    kind = Probe(bytes);
                var children = new List<(Digest, string?)>();
                if (MediaTypes.IsIndex(kind))
                {
                    var index = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageIndex)!;
                    foreach (var m in index.Manifests)
                        Add(children, digest, m, m.MediaType);
                }
                else if (MediaTypes.IsManifest(kind))
                {
                    var manifest = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageManifest)!;
                    Add(children, digest, manifest.Config, manifest.Config.MediaType);
                    // Layers of any media type (attestations use in-toto types) are leaves.
                    foreach (var layer in manifest.Layers)
                        Add(children, digest, layer, MediaTypes.IsLayer(layer.MediaType) ? layer.MediaType : MediaTypes.OciLayer);
                    if (manifest.Subject is { } subject)
                        Add(children, digest, subject, subject.MediaType);
                }
                else if (IsConfig(kind))
                {
                    var config = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageConfig)!;
                    var diffIds = config.RootFs.DiffIds.Select(Digest.Parse).ToList();
                    ChainIds.UnionWith(ChainId.Compute(diffIds));
                    DiffIds.UnionWith(diffIds);
                }
                return children;
            }
            catch (Exception e) when (e is JsonException or Errors.HiveletException)
            {
                // A live blob we cannot read is still live; losing its children beats failing the GC.
                logger.GcUnparsable(digest.ToString(), kind ?? "unknown", e.Message);
                return [];
            }
        }

        private void Add(List<(Digest, string?)> children, Digest parent, Descriptor child, string? mediaType)
        {
            if (Digest.TryParse(child.Digest, out var d, out var error))
                children.Add((d, mediaType));
            else
                logger.GcUnparsable(parent.ToString(), mediaType ?? "unknown", error!);
        }

        private static bool IsConfig(string? mediaType) => mediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig;

        private static string? Probe(byte[] bytes)
        {
            var probe = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.DocumentProbe);
            if (probe is null)
                return null;
            if (!string.IsNullOrEmpty(probe.MediaType) && (MediaTypes.IsIndex(probe.MediaType) || MediaTypes.IsManifest(probe.MediaType)))
                return probe.MediaType;
            if (probe.Manifests is not null)
                return MediaTypes.OciIndex;
            if (probe.Config is not null && probe.Layers is not null)
                return MediaTypes.OciManifest;
            return null;
        }
    }
}
