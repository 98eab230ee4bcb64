using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Hivelet.Errors;
using Hivelet.IO;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Platforms;
using Hivelet.Images.References;
using Hivelet.Images.Registry;
using Hivelet.Images.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Pulling;

/// <summary>
/// pull = resolve the reference, pick the platform manifest, download config and layers (in parallel,
/// verified, resumable) and unpack them, then record the image. With the overlay driver every layer is
/// unpacked while it downloads, side by side with the others, and committed in chain order; with the
/// copy driver layers are unpacked in order as soon as each one is in. Nothing is recorded until all of
/// it verified.
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

    private Task DownloadAndUnpackAsync(RegistryClient client, string repo, ImageManifest manifest,
        IReadOnlyList<Digest> diffIds, IReadOnlyList<Digest> chainIds, IPullObserver observer, CancellationToken ct) =>
        _unpacker.SupportsDetached
            ? DownloadAndApplyConcurrentlyAsync(client, repo, manifest, diffIds, chainIds, observer, ct)
            : DownloadAndUnpackInOrderAsync(client, repo, manifest, diffIds, chainIds, observer, ct);

    /// <summary>
    /// The overlay way: every layer is applied into its own empty directory while it downloads (the
    /// body is teed into the ingest file and the unpack), or from the content store when its blob was
    /// already there, all layers side by side; then they are committed strictly in chain order, each
    /// only once its download verified (digest) and its apply verified (diff_id). A layer that fails
    /// stops the pull: the ones below it that were complete stay committed, nothing above it is.
    /// </summary>
    private async Task DownloadAndApplyConcurrentlyAsync(RegistryClient client, string repo, ImageManifest manifest,
        IReadOnlyList<Digest> diffIds, IReadOnlyList<Digest> chainIds, IPullObserver observer, CancellationToken ct)
    {
        int count = manifest.Layers.Count;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = linked.Token;
        using var downloadGate = new SemaphoreSlim(MaxConcurrentDownloads);
        using var applyGate = new SemaphoreSlim(Math.Max(1, Math.Min(MaxConcurrentDownloads, Environment.ProcessorCount)));
        var layers = new Task<IActiveSnapshot?>[count];
        for (int i = 0; i < count; i++)
            observer.Layer(manifest.Layers[i].ParsedDigest(), LayerPhase.Waiting, 0, manifest.Layers[i].Size);
        var context = new LayerJob(client, repo, manifest, diffIds, chainIds, observer, downloadGate, applyGate);
        for (int i = 0; i < count; i++)
        {
            layers[i] = FetchAndApplyAsync(context, i, token);
            // A failure anywhere stops everything at once, not when the commits reach that layer.
            _ = layers[i].ContinueWith(static (_, state) => CancelQuietly((CancellationTokenSource)state!), linked,
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        int committed = 0;
        try
        {
            for (; committed < count; committed++)
            {
                var applied = await layers[committed].ConfigureAwait(false);
                token.ThrowIfCancellationRequested();
                var layer = manifest.Layers[committed];
                if (applied is not null)
                {
                    _unpacker.CommitApplied(applied, manifest, chainIds, committed, observer);
                }
                else
                {
                    // Already unpacked (then this returns at once) or in need of its parent's merged view.
                    await Task.Run(() => _unpacker.UnpackLayer(manifest, diffIds, chainIds, committed, observer, token), token)
                        .ConfigureAwait(false);
                }
            }
        }
        catch (Exception failure)
        {
            await linked.CancelAsync().ConfigureAwait(false);
            for (int i = committed; i < count; i++)
            {
                try
                {
                    (await layers[i].ConfigureAwait(false))?.Dispose();
                }
                catch (Exception)
                {
                    // Reported below: the first failure in layer order is the one that stopped the pull.
                }
            }
            var first = FirstFailure(layers, null);
            if (first is OperationCanceledException && failure is not OperationCanceledException)
                ExceptionDispatchInfo.Throw(failure);
            throw first;
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The pull already ended.
        }
    }

    private sealed record LayerJob(RegistryClient Client, string Repo, ImageManifest Manifest, IReadOnlyList<Digest> DiffIds,
        IReadOnlyList<Digest> ChainIds, IPullObserver Observer, SemaphoreSlim DownloadGate, SemaphoreSlim ApplyGate);

    /// <summary>
    /// Makes sure layer <paramref name="index"/>'s blob is in the content store and returns it applied
    /// (uncommitted), or null when it is already unpacked or must be applied onto its parent's merged view.
    /// </summary>
    private async Task<IActiveSnapshot?> FetchAndApplyAsync(LayerJob job, int index, CancellationToken ct)
    {
        var layer = job.Manifest.Layers[index];
        var digest = layer.ParsedDigest();
        bool unpacked = _unpacker.IsUnpacked(job.ChainIds, index);
        if (_content.Exists(digest))
        {
            PullLog.BlobPresent(_logger, digest.ToString());
            job.Observer.Layer(digest, LayerPhase.AlreadyExists, layer.Size, layer.Size);
            return unpacked ? null : await ApplyFromStoreAsync(job, index, ct).ConfigureAwait(false);
        }
        await job.DownloadGate.WaitAsync(ct).ConfigureAwait(false);
        Task<IActiveSnapshot?>? apply = null;
        LayerStream? tee = null;
        try
        {
            using var writer = _content.OpenWriter(digest, layer.Size);
            if (_content.Exists(digest))
            {
                // Another process committed it while we waited for its ingest lock.
                job.Observer.Layer(digest, LayerPhase.AlreadyExists, layer.Size, layer.Size);
            }
            else
            {
                // A resumed download starts mid-blob: unpack it from the store once complete instead.
                IContentWriter target = writer;
                if (!unpacked && writer.Offset == 0)
                {
                    tee = new LayerStream(writer);
                    target = tee.Writer;
                    var reader = tee.Reader;
                    apply = Task.Factory.StartNew(() =>
                    {
                        using (reader)
                            return _unpacker.ApplyDetached(job.Manifest, job.DiffIds, job.ChainIds, index, reader, ct);
                    }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                }
                var progress = new SyncProgress<long>(n => job.Observer.Layer(digest, LayerPhase.Downloading, n, layer.Size));
                job.Observer.Layer(digest, LayerPhase.Downloading, writer.Offset, layer.Size);
                await job.Client.FetchBlobAsync(job.Repo, layer, target, progress, ct).ConfigureAwait(false);
                job.Observer.Layer(digest, LayerPhase.DownloadComplete, layer.Size, layer.Size);
            }
        }
        catch
        {
            tee?.Dispose();
            if (apply is not null)
            {
                // The download's error is the one to report; the apply only saw its stream end early.
                try
                {
                    (await apply.ConfigureAwait(false))?.Dispose();
                }
                catch (Exception)
                {
                }
            }
            throw;
        }
        finally
        {
            job.DownloadGate.Release();
        }
        tee?.Dispose();
        if (unpacked)
            return null;
        if (apply is null)
            return await ApplyFromStoreAsync(job, index, ct).ConfigureAwait(false);
        job.Observer.Layer(digest, LayerPhase.Extracting, layer.Size, layer.Size);
        try
        {
            return await apply.ConfigureAwait(false);
        }
        catch (Exception) when (tee!.Broken && !ct.IsCancellationRequested)
        {
            PullLog.StreamRestarted(_logger, digest.ToString());
            return await ApplyFromStoreAsync(job, index, ct).ConfigureAwait(false);
        }
    }

    private async Task<IActiveSnapshot?> ApplyFromStoreAsync(LayerJob job, int index, CancellationToken ct)
    {
        var layer = job.Manifest.Layers[index];
        var digest = layer.ParsedDigest();
        await job.ApplyGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await Task.Factory.StartNew(() =>
            {
                job.Observer.Layer(digest, LayerPhase.Extracting, 0, layer.Size);
                using var blob = new ProgressReadStream(_content.OpenRead(digest),
                    new SyncProgress<long>(n => job.Observer.Layer(digest, LayerPhase.Extracting, n, layer.Size)));
                return _unpacker.ApplyDetached(job.Manifest, job.DiffIds, job.ChainIds, index, blob, ct);
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            job.ApplyGate.Release();
        }
    }

    /// <summary>The copy driver's way: each layer is copied from its committed parent, so strictly in order.</summary>
    private async Task DownloadAndUnpackInOrderAsync(RegistryClient client, string repo, ImageManifest manifest,
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

    private static Exception FirstFailure(Task[] downloads, Task? unpack)
    {
        foreach (var t in unpack is null ? downloads : downloads.Prepend(unpack))
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
