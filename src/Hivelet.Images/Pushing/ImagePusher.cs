using Hivelet.Errors;
using Hivelet.IO;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.References;
using Hivelet.Images.Registry;

namespace Hivelet.Images.Pushing;

public enum PushPhase
{
    Preparing,
    Waiting,
    LayerAlreadyExists,
    Pushing,
    Pushed,
}

public interface IPushObserver
{
    void Blob(Digest digest, PushPhase phase, long current, long total);
}

/// <summary>
/// push = upload every blob the registry lacks (layers in parallel), then the manifest(s) under the tag.
/// An image pulled from a multi-platform index is pushed as the platform manifest that was pulled,
/// unless every platform's content is present locally, in which case the whole index goes up.
/// </summary>
public sealed class ImagePusher(RegistryClientFactory registries, IContentStore content)
{
    public int MaxConcurrentUploads { get; init; } = 5;

    public async Task<(Digest Digest, long Size)> PushAsync(ImageRecord record, ImageReference target, IPushObserver observer,
        CancellationToken ct)
    {
        if (target.Tag is null && target.Digest is null)
            throw new InvalidInputException($"push {target}: a tag is required");
        var client = registries.Get(target.Domain);
        var repo = target.Repository;

        var manifests = new List<(Digest Digest, byte[] Bytes, string MediaType)>();
        (Digest Digest, byte[] Bytes, string MediaType)? index = null;
        if (MediaTypes.IsIndex(record.Target.MediaType) && content.Exists(record.Target.ParsedDigest()))
        {
            var indexBytes = StoredImage.ReadAll(content, record.Target.ParsedDigest(), ManifestParser.MaxDocumentSize);
            var parsed = ManifestParser.Parse(indexBytes, record.Target.MediaType).Index!;
            var children = parsed.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)).ToList();
            if (children.All(m => HasImage(m.ParsedDigest())))
            {
                index = (record.Target.ParsedDigest(), indexBytes, record.Target.MediaType);
                foreach (var m in children)
                    manifests.Add((m.ParsedDigest(), StoredImage.ReadAll(content, m.ParsedDigest(), ManifestParser.MaxDocumentSize), m.MediaType));
            }
        }
        if (index is null)
        {
            var bytes = StoredImage.ReadAll(content, record.ManifestDigest, ManifestParser.MaxDocumentSize);
            var doc = ManifestParser.Parse(bytes, null);
            manifests.Add((record.ManifestDigest, bytes, doc.MediaType));
        }

        using var gate = new SemaphoreSlim(MaxConcurrentUploads);
        var blobs = new Dictionary<Digest, Descriptor>();
        foreach (var (_, bytes, mediaType) in manifests)
        {
            var manifest = ManifestParser.Parse(bytes, mediaType).Manifest!;
            foreach (var d in manifest.Layers.Append(manifest.Config))
                blobs.TryAdd(d.ParsedDigest(), d);
        }
        foreach (var d in blobs.Keys)
            observer.Blob(d, PushPhase.Preparing, 0, blobs[d].Size);
        await Task.WhenAll(blobs.Select(kv => PushBlobAsync(client, repo, kv.Key, kv.Value, gate, observer, ct))).ConfigureAwait(false);

        // Children first: a registry refuses an index whose manifests it does not have.
        var tag = target.Tag;
        foreach (var (digest, bytes, mediaType) in manifests)
        {
            var reference = index is null && tag is not null ? tag : digest.ToString();
            await client.PutManifestAsync(repo, reference, bytes, mediaType, ct).ConfigureAwait(false);
        }
        if (index is { } ix)
        {
            await client.PutManifestAsync(repo, tag ?? ix.Digest.ToString(), ix.Bytes, ix.MediaType, ct).ConfigureAwait(false);
            return (ix.Digest, ix.Bytes.Length);
        }
        return (manifests[0].Digest, manifests[0].Bytes.Length);
    }

    private bool HasImage(Digest manifestDigest)
    {
        if (!content.Exists(manifestDigest))
            return false;
        var manifest = ManifestParser.Parse(StoredImage.ReadAll(content, manifestDigest, ManifestParser.MaxDocumentSize), null).Manifest;
        return manifest is not null && manifest.Layers.Append(manifest.Config).All(d => content.Exists(d.ParsedDigest()));
    }

    private async Task PushBlobAsync(RegistryClient client, string repo, Digest digest, Descriptor descriptor,
        SemaphoreSlim gate, IPushObserver observer, CancellationToken ct)
    {
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!content.Exists(digest))
                throw new NotFoundException($"push: blob {digest} is not in the local store (pull the image again)");
            if (await client.BlobExistsAsync(repo, digest, ct).ConfigureAwait(false))
            {
                observer.Blob(digest, PushPhase.LayerAlreadyExists, descriptor.Size, descriptor.Size);
                return;
            }
            observer.Blob(digest, PushPhase.Pushing, 0, descriptor.Size);
            await client.PushBlobAsync(repo, descriptor, () => content.OpenRead(digest),
                new SyncProgress<long>(n => observer.Blob(digest, PushPhase.Pushing, n, descriptor.Size)), ct).ConfigureAwait(false);
            observer.Blob(digest, PushPhase.Pushed, descriptor.Size, descriptor.Size);
        }
        finally
        {
            gate.Release();
        }
    }
}
