using System.Net;
using System.Net.Http.Headers;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry.Auth;

namespace Hivelet.Images.Registry;

public sealed partial class RegistryClient
{
    private const int CopyBufferSize = 128 * 1024;

    /// <summary>
    /// Downloads a blob into <paramref name="writer"/>, resuming from <see cref="IContentWriter.Offset"/>
    /// with a Range request (after a crash, and after each transient failure), then commits it, which
    /// verifies size and digest. Progress reports the total bytes written so far.
    /// </summary>
    public async Task FetchBlobAsync(string repository, Descriptor blob, IContentWriter writer,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        var digest = blob.ParsedDigest();
        var subject = $"pull {Domain}/{repository}@{digest}";
        var uri = Endpoint($"v2/{repository}/blobs/{digest}");
        await WithRetriesAsync(subject, async () =>
        {
            await DownloadOnceAsync(uri, repository, blob.Size, digest, writer, progress, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
        try
        {
            writer.Commit();
        }
        catch (DigestMismatchException e)
        {
            throw new DigestMismatchException($"{subject}: {e.Message}");
        }
    }

    /// <summary>One attempt: request the missing bytes and append them until the blob's size is reached.</summary>
    private async Task DownloadOnceAsync(Uri uri, string repository, long size, Digest digest, IContentWriter writer,
        IProgress<long>? progress, CancellationToken ct)
    {
        long offset = writer.Offset;
        if (offset > size)
        {
            writer.Truncate();
            offset = 0;
        }
        if (offset == size && size > 0)
            return;
        if (offset > 0)
            RegistryLog.Resuming(_logger, digest.ToString(), offset);

        using var response = await SendFollowingRedirectsAsync(HttpMethod.Get, uri, [Scopes.Pull(repository)],
            r => { if (offset > 0) r.Headers.Range = new RangeHeaderValue(offset, null); }, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.PartialContent && offset > 0)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From != offset)
            {
                writer.Truncate();
                throw new RegistryException($"registry answered Range {offset}- with {range}", isTransient: true);
            }
        }
        else if (response.StatusCode == HttpStatusCode.OK)
        {
            if (offset > 0)
            {
                RegistryLog.RangeIgnored(_logger, digest.ToString());
                writer.Truncate();
            }
        }
        else if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
        {
            // Our partial data disagrees with the registry's idea of the blob: start over.
            writer.Truncate();
            throw new RegistryException("registry refused to resume the download (HTTP 416)", isTransient: true);
        }
        else
        {
            throw await Error(response, ct).ConfigureAwait(false);
        }

        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await CopyWithStallTimeoutAsync(body, writer, size, progress, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new RegistryException($"download interrupted at byte {writer.Offset}: {e.Message}",
                isTransient: true, inner: e);
        }
        if (writer.Offset < size)
        {
            throw new RegistryException($"download ended at byte {writer.Offset} of {size}",
                isTransient: true);
        }
    }

    private async Task CopyWithStallTimeoutAsync(Stream body, IContentWriter writer, long size,
        IProgress<long>? progress, CancellationToken ct)
    {
        var buffer = new byte[CopyBufferSize];
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        while (true)
        {
            stall.CancelAfter(_options.StallTimeout);
            int n;
            try
            {
                n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new RegistryException(
                    $"download stalled: no data for {_options.StallTimeout.TotalSeconds:0.#}s at byte {writer.Offset}",
                    isTransient: true);
            }
            if (n == 0)
                return;
            if (writer.Offset + n > size)
            {
                // More than the descriptor promised: the content is wrong, and retrying will not fix it.
                writer.Truncate();
                throw new DigestMismatchException($"registry sent more than the expected {size} bytes");
            }
            await writer.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            progress?.Report(writer.Offset);
        }
    }
}
