using System.Diagnostics;
using Hivelet.Errors;
using Hivelet.IO;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;
using Hivelet.Images.References;
using Hivelet.Images.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Pulling;

/// <summary>
/// pull = resolve the reference, pick the platform manifest, download config and layers (in parallel,
/// verified, resumable) and unpack them in order as soon as each one is in, then record the image.
/// Download of layer N+1 overlaps the unpack of layer N; nothing is recorded until all of it verified.
/// </summary>
public sealed class ImagePuller
{
    private readonly RegistryClientFactory _registries;
    private readonly IContentStore _content;
    private readonly ImageStore _images;
    private readonly StoreLock _lock;
    private readonly ImageUnpacker _unpacker;
    private readonly PlatformMatcher _matcher;
    private readonly ILogger _logger;

    public ImagePuller(RegistryClientFactory registries, IContentStore content, ImageStore images, StoreLock storeLock,
        ImageUnpacker unpacker, PlatformMatcher? matcher = null, ILogger? logger = null)
    {
        _registries = registries;
        _content = content;
        _images = images;
        _lock = storeLock;
        _unpacker = unpacker;
        _matcher = matcher ?? new PlatformMatcher();
        _logger = logger ?? NullLogger.Instance;
    }

    public int MaxConcurrentDownloads { get; init; } = 3;

    public async Task<ImageRecord> PullAsync(ImageReference reference, PlatformSpec platform, IPullObserver observer,
        CancellationToken ct)
    {
        try
        {
            return await PullCoreAsync(reference, platform, observer, ct).ConfigureAwait(false);
        }
        catch (HiveletException e) when (e is not RegistryException && !e.Message.StartsWith("pull ", StringComparison.Ordinal))
        {
            throw new HiveletException($"pull {reference.FamiliarString()}", e);
        }
    }

    private async Task<ImageRecord> PullCoreAsync(ImageReference reference, PlatformSpec platform, IPullObserver observer,
        CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var client = _registries.Get(reference.Domain);
        var repo = reference.Repository;

        // The lease keeps a concurrent `image prune` from collecting what we write before it is recorded.
        using var lease = _lock.AcquireLease(StoreLock.DefaultLeaseWait);

        var top = await client.GetManifestAsync(repo, reference.ManifestReference, ct).ConfigureAwait(false);
        PullLog.Resolved(_logger, reference.ToString(), top.Digest.ToString(), top.MediaType);
        var topDoc = ManifestParser.Parse(top.Content, top.MediaType);

        ImageManifest manifest;
        Digest manifestDigest;
        byte[] manifestBytes;
        if (topDoc.Index is { } index)
        {
            var chosen = _matcher.Select(index, platform);
            manifestDigest = chosen.ParsedDigest();
            var platformManifest = await client.GetManifestAsync(repo, manifestDigest.ToString(), ct).ConfigureAwait(false);
            var doc = ManifestParser.Parse(platformManifest.Content, platformManifest.MediaType);
            manifest = doc.Manifest ?? throw new InvalidInputException(
                $"manifest {manifestDigest} for {chosen.Platform} is an index, expected an image manifest");
            manifestBytes = platformManifest.Content;
            PullLog.SelectedPlatform(_logger, chosen.Platform?.ToString() ?? platform.ToString(), manifestDigest.ToString());
        }
        else
        {
            manifest = topDoc.Manifest!;
            manifestDigest = top.Digest;
            manifestBytes = top.Content;
        }

        var configDescriptor = manifest.Config;
        var configDigest = configDescriptor.ParsedDigest();
        if (!_content.Exists(configDigest))
        {
            using var writer = _content.OpenWriter(configDigest, configDescriptor.Size);
            await client.FetchBlobAsync(repo, configDescriptor, writer, null, ct).ConfigureAwait(false);
        }
        ImageConfig config;
        using (var configStream = _content.OpenRead(configDigest))
        {
            if (configStream.Length > ManifestParser.MaxConfigSize)
                throw new InvalidInputException($"image config {configDigest} is larger than {ManifestParser.MaxConfigSize} bytes");
            var buffer = new byte[configStream.Length];
            configStream.ReadExactly(buffer);
            config = ManifestParser.ParseConfig(buffer);
        }
        if (!_matcher.IsCompatible(platform, config))
        {
            throw new NotFoundException(
                $"image {reference.FamiliarString()} is for {PlatformSpec.From(config)}, not {platform} (use --platform to choose)");
        }
        observer.Resolved(reference.FamiliarString(), top.Digest, PlatformSpec.From(config).ToString());

        var diffIds = ManifestParser.DiffIds(config);
        ManifestParser.CheckLayerCount(manifest, config);
        var chainIds = ChainId.Compute(diffIds);

        await DownloadAndUnpackAsync(client, repo, manifest, diffIds, chainIds, observer, ct).ConfigureAwait(false);

        // Manifests go in last: their presence never implies that the content below them is complete.
        _content.Put(manifestDigest, manifestBytes);
        if (top.Digest != manifestDigest)
            _content.Put(top.Digest, top.Content);

        var name = reference.Digest is null ? reference.WithDefaultTag().ToString() : reference.ToString();
        var record = new ImageRecord
        {
            Name = name,
            Target = top.ToDescriptor(),
            ManifestDigest = manifestDigest,
            ConfigDigest = configDigest,
            Platform = PlatformSpec.From(config).ToPlatform(),
            Created = DateTimeOffset.UtcNow,
            RepoDigests = [$"{reference.Name}@{top.Digest}"],
        };
        _images.Put(record);
        PullLog.Pulled(_logger, reference.ToString(), watch.ElapsedMilliseconds);
        return record;
    }

    private async Task DownloadAndUnpackAsync(RegistryClient client, string repo, ImageManifest manifest,
        IReadOnlyList<Digest> diffIds, IReadOnlyList<Digest> chainIds, IPullObserver observer, CancellationToken ct)
    {
        int count = manifest.Layers.Count;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = linked.Token;
        using var gate = new SemaphoreSlim(MaxConcurrentDownloads);
        var downloads = new Task[count];
        for (int i = 0; i < count; i++)
        {
            var layer = manifest.Layers[i];
            var digest = layer.ParsedDigest();
            observer.Layer(digest, LayerPhase.Waiting, 0, layer.Size);
            downloads[i] = DownloadLayerAsync(client, repo, layer, digest, gate, observer, token);
        }

        // Unpacking runs on its own thread, in layer order, each layer as soon as its blob is in.
        var unpack = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < count; i++)
            {
                downloads[i].GetAwaiter().GetResult();
                token.ThrowIfCancellationRequested();
                _unpacker.UnpackLayer(manifest, diffIds, chainIds, i, observer, token);
            }
        }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            await unpack.ConfigureAwait(false);
            await Task.WhenAll(downloads).ConfigureAwait(false);
        }
        catch
        {
            // Stop the other downloads; their partial data stays in the ingest area for a resume.
            await linked.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(downloads.Append(unpack)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The first failure is the one reported; the rest were caused by the cancellation.
            }
            throw FirstFailure(downloads, unpack);
        }
    }

    private static Exception FirstFailure(Task[] downloads, Task unpack)
    {
        foreach (var t in downloads.Prepend(unpack))
        {
            if (t.Exception?.InnerException is { } e and not OperationCanceledException)
                return e;
        }
        return new OperationCanceledException();
    }

    private async Task DownloadLayerAsync(RegistryClient client, string repo, Descriptor layer, Digest digest,
        SemaphoreSlim gate, IPullObserver observer, CancellationToken ct)
    {
        if (_content.Exists(digest))
        {
            PullLog.BlobPresent(_logger, digest.ToString());
            observer.Layer(digest, LayerPhase.AlreadyExists, layer.Size, layer.Size);
            return;
        }
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var writer = _content.OpenWriter(digest, layer.Size);
            if (_content.Exists(digest))
            {
                // Another process committed it while we waited for its ingest lock.
                observer.Layer(digest, LayerPhase.AlreadyExists, layer.Size, layer.Size);
                return;
            }
            var progress = new SyncProgress<long>(n => observer.Layer(digest, LayerPhase.Downloading, n, layer.Size));
            observer.Layer(digest, LayerPhase.Downloading, writer.Offset, layer.Size);
            await client.FetchBlobAsync(repo, layer, writer, progress, ct).ConfigureAwait(false);
            observer.Layer(digest, LayerPhase.DownloadComplete, layer.Size, layer.Size);
        }
        finally
        {
            gate.Release();
        }
    }
}
