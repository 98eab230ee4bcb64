using System.Net;
using System.Net.Http.Headers;
using Hivelet.Errors;
using Hivelet.IO;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry.Auth;

namespace Hivelet.Images.Registry;

public sealed partial class RegistryClient
{
    /// <summary>HEAD the blob: true when the registry already has it.</summary>
    public Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        return WithRetriesAsync($"check {Domain}/{repository}@{digest}", async () =>
        {
            using var response = await SendFollowingRedirectsAsync(HttpMethod.Head,
                Endpoint($"v2/{repository}/blobs/{digest}"), [Scopes.Pull(repository)], null, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
                return true;
            if (response.StatusCode == HttpStatusCode.NotFound)
                return false;
            throw await Error(response, ct).ConfigureAwait(false);
        }, ct);
    }

    /// <summary>
    /// Uploads a blob: POST an upload session, then one PUT ?digest= with the body, or PATCH chunks
    /// and a closing PUT for blobs above <see cref="RegistryClientOptions.MonolithicUploadLimit"/>.
    /// With <paramref name="mountFrom"/> the registry is first asked to mount it from that repository.
    /// Each session URL is the latest Location the registry sent (it may encode state). A failed upload
    /// is started over from a new session; <paramref name="open"/> is called once per attempt.
    /// </summary>
    public Task PushBlobAsync(string repository, Descriptor blob, Func<Stream> open, IProgress<long>? progress = null,
        CancellationToken ct = default) =>
        PushBlobAsync(repository, blob, open, mountFrom: null, progress, ct);

    /// <inheritdoc cref="PushBlobAsync(string, Descriptor, Func{Stream}, IProgress{long}?, CancellationToken)"/>
    public Task PushBlobAsync(string repository, Descriptor blob, Func<Stream> open, string? mountFrom,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        if (mountFrom is not null)
            ValidateRepository(mountFrom);
        var digest = blob.ParsedDigest();
        var subject = $"push {Domain}/{repository}@{digest}";
        return WithRetriesAsync(subject, async () =>
        {
            var location = await StartUploadAsync(repository, digest, mountFrom, ct).ConfigureAwait(false);
            if (location is null)
                return true;
            if (blob.Size <= _options.MonolithicUploadLimit)
                await PutMonolithicAsync(repository, location, blob, open, progress, ct).ConfigureAwait(false);
            else
                await PutChunkedAsync(repository, location, blob, open, progress, ct).ConfigureAwait(false);
            return true;
        }, ct);
    }

    /// <summary>PUT a manifest; returns its digest after checking the registry computed the same one.</summary>
    public Task<Digest> PutManifestAsync(string repository, string reference, ReadOnlyMemory<byte> content,
        string mediaType, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        ValidateReference(reference);
        var digest = Digest.ComputeSha256(content.Span);
        if (Digest.TryParse(reference, out var byDigest) && !byDigest.Matches(content.Span))
            throw new DigestMismatchException($"push {Domain}/{repository}@{reference}: manifest content is {digest}");
        return WithRetriesAsync(Subject("push", repository, reference), async () =>
        {
            using var response = await SendAsync(u => new HttpRequestMessage(HttpMethod.Put, u)
            {
                Content = Body(content, mediaType),
            }, Endpoint($"v2/{repository}/manifests/{reference}"), [Scopes.PullPush(repository)],
                HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.Accepted))
                throw await Error(response, ct).ConfigureAwait(false);
            CheckServerDigest(response, digest);
            return digest;
        }, ct);
    }

    /// <summary>POST …/blobs/uploads/: the session URL, or null when a cross-repository mount did the job.</summary>
    private async Task<Uri?> StartUploadAsync(string repository, Digest digest, string? mountFrom, CancellationToken ct)
    {
        var query = mountFrom is null ? "" : $"?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(mountFrom)}";
        IReadOnlyList<string> scopes = mountFrom is null
            ? [Scopes.PullPush(repository)]
            : [Scopes.PullPush(repository), Scopes.Pull(mountFrom)];
        var uri = Endpoint($"v2/{repository}/blobs/uploads/{query}");
        using var response = await SendAsync(u => new HttpRequestMessage(HttpMethod.Post, u)
        {
            Content = Body(ReadOnlyMemory<byte>.Empty, null),
        }, uri, scopes, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created && mountFrom is not null)
        {
            RegistryLog.BlobMounted(_logger, digest.ToString(), mountFrom);
            return null;
        }
        if (response.StatusCode != HttpStatusCode.Accepted)
            throw await Error(response, ct).ConfigureAwait(false);
        return NextLocation(response, uri);
    }

    private async Task PutMonolithicAsync(string repository, Uri location, Descriptor blob, Func<Stream> open,
        IProgress<long>? progress, CancellationToken ct)
    {
        var digest = blob.ParsedDigest();
        var target = WithDigest(location, digest);
        using var response = await SendAsync(u =>
        {
            var content = new StreamContent(new ProgressReadStream(open(), progress), CopyBufferSize);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = blob.Size;
            return new HttpRequestMessage(HttpMethod.Put, u) { Content = content };
        }, target, [Scopes.PullPush(repository)], HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.NoContent))
            throw await Error(response, ct).ConfigureAwait(false);
        CheckServerDigest(response, digest);
    }

    private async Task PutChunkedAsync(string repository, Uri location, Descriptor blob, Func<Stream> open,
        IProgress<long>? progress, CancellationToken ct)
    {
        var digest = blob.ParsedDigest();
        var buffer = new byte[_options.UploadChunkSize];
        long sent = 0;
        await using (var source = open())
        {
            while (true)
            {
                int filled = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct)
                    .ConfigureAwait(false);
                if (filled == 0)
                    break;
                var chunk = buffer.AsMemory(0, filled);
                long start = sent;
                using var response = await SendAsync(u =>
                {
                    var r = new HttpRequestMessage(HttpMethod.Patch, u) { Content = Body(chunk, "application/octet-stream") };
                    // distribution's Content-Range for uploads has no "bytes " unit: "start-end", inclusive.
                    r.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + filled - 1}");
                    return r;
                }, location, [Scopes.PullPush(repository)], HttpCompletionOption.ResponseContentRead, ct)
                    .ConfigureAwait(false);
                if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.NoContent))
                    throw await Error(response, ct).ConfigureAwait(false);
                location = NextLocation(response, location);
                sent += filled;
                RegistryLog.ChunkUploaded(_logger, start, sent - 1, digest.ToString());
                progress?.Report(sent);
            }
        }
        if (sent != blob.Size)
            throw new DigestMismatchException($"blob source has {sent} bytes, descriptor says {blob.Size}");
        using var done = await SendAsync(u => new HttpRequestMessage(HttpMethod.Put, u)
        {
            Content = Body(ReadOnlyMemory<byte>.Empty, null),
        }, WithDigest(location, digest), [Scopes.PullPush(repository)], HttpCompletionOption.ResponseContentRead, ct)
            .ConfigureAwait(false);
        if (done.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.NoContent))
            throw await Error(done, ct).ConfigureAwait(false);
        CheckServerDigest(done, digest);
    }

    /// <summary>The upload session's next URL: the Location header, absolute or relative to the request.</summary>
    private static Uri NextLocation(HttpResponseMessage response, Uri requestUri)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException($"registry sent no Location for the upload (HTTP {(int)response.StatusCode})");
        return location.IsAbsoluteUri ? location : new Uri(requestUri, location);
    }

    /// <summary>Appends digest=… keeping whatever query the opaque Location already carries.</summary>
    internal static Uri WithDigest(Uri location, Digest digest)
    {
        var s = location.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.Fragment, UriFormat.UriEscaped);
        var sep = string.IsNullOrEmpty(location.Query) ? "?" : "&";
        return new Uri(s + sep + "digest=" + Uri.EscapeDataString(digest.ToString()));
    }

    private static void CheckServerDigest(HttpResponseMessage response, Digest expected)
    {
        if (HeaderDigest(response.Headers) is { } server && server != expected)
            throw new DigestMismatchException($"registry stored {server}, expected {expected}");
    }

    private static ReadOnlyMemoryContent Body(ReadOnlyMemory<byte> data, string? mediaType)
    {
        var content = new ReadOnlyMemoryContent(data);
        if (mediaType is not null)
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        content.Headers.ContentLength = data.Length;
        return content;
    }

}
