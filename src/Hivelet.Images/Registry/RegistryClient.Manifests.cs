using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Registry.Auth;

namespace Hivelet.Images.Registry;

public sealed partial class RegistryClient
{
    /// <summary>containerd's limit; OCI asks registries and clients to handle at least 4 MB.</summary>
    public const int MaxManifestSize = 4 * 1024 * 1024;

    /// <summary>
    /// GET a manifest or index by tag or digest. Fetched by digest, the bytes are checked against that
    /// digest (the Docker-Content-Digest header is not trusted over it); fetched by tag, the computed
    /// digest must agree with the header when the registry sends one.
    /// </summary>
    public Task<ManifestResponse> GetManifestAsync(string repository, string tagOrDigest, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        ValidateReference(tagOrDigest);
        var subject = Subject("pull", repository, tagOrDigest);
        return WithRetriesAsync(subject, async () =>
        {
            using var response = await SendFollowingRedirectsAsync(HttpMethod.Get, ManifestUri(repository, tagOrDigest),
                [Scopes.Pull(repository)], r => r.Headers.Accept.ParseAdd(MediaTypes.ManifestAccept), ct)
                .ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
                throw await Error(response, ct).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength > MaxManifestSize)
                throw new RegistryException($"manifest is larger than {MaxManifestSize} bytes");
            byte[] body;
            try
            {
                body = await RegistryErrors.ReadCappedAsync(response.Content, MaxManifestSize + 1, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new RegistryException($"reading manifest: {e.Message}", isTransient: true, inner: e);
            }
            if (body.Length > MaxManifestSize)
                throw new RegistryException($"manifest is larger than {MaxManifestSize} bytes");
            var digest = VerifyManifestDigest(body, tagOrDigest, response.Headers);
            return new ManifestResponse(body, ManifestMediaType(body, response), digest);
        }, ct);
    }

    /// <summary>
    /// HEAD a manifest: its descriptor without downloading it (Docker Hub does not count HEADs as
    /// pulls), or null when the registry does not have it. Registries that answer HEAD with 405 or
    /// without digest and length get a GET instead.
    /// </summary>
    public Task<Descriptor?> HeadManifestAsync(string repository, string tagOrDigest, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        ValidateReference(tagOrDigest);
        var subject = Subject("pull", repository, tagOrDigest);
        return WithRetriesAsync<Descriptor?>(subject, async () =>
        {
            using (var response = await SendFollowingRedirectsAsync(HttpMethod.Head, ManifestUri(repository, tagOrDigest),
                       [Scopes.Pull(repository)], r => r.Headers.Accept.ParseAdd(MediaTypes.ManifestAccept), ct)
                       .ConfigureAwait(false))
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                    return null;
                if (response.StatusCode == HttpStatusCode.OK &&
                    HeaderDigest(response.Headers) is { } digest &&
                    response.Content.Headers.ContentLength is { } length &&
                    (!Digest.TryParse(tagOrDigest, out var asked) || asked == digest))
                {
                    return new Descriptor
                    {
                        MediaType = MediaTypes.Normalize(response.Content.Headers.ContentType?.ToString()),
                        Digest = digest.ToString(),
                        Size = length,
                    };
                }
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.MethodNotAllowed))
                    throw await Error(response, ct).ConfigureAwait(false);
            }
            try
            {
                return (await GetManifestAsync(repository, tagOrDigest, ct).ConfigureAwait(false)).ToDescriptor();
            }
            catch (RegistryException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, ct);
    }

    private Uri ManifestUri(string repository, string reference) => Endpoint($"v2/{repository}/manifests/{reference}");

    private static Digest VerifyManifestDigest(byte[] body, string reference, HttpResponseHeaders headers)
    {
        if (Digest.TryParse(reference, out var requested))
        {
            if (!requested.Matches(body))
            {
                throw new DigestMismatchException(
                    $"manifest content does not match its digest {requested} (got {Digest.ComputeSha256(body)})");
            }
            return requested;
        }
        var computed = Digest.ComputeSha256(body);
        if (HeaderDigest(headers) is { } claimed && !claimed.Matches(body))
        {
            throw new DigestMismatchException(
                $"manifest content ({computed}) does not match the registry's Docker-Content-Digest {claimed}");
        }
        return computed;
    }

    internal static Digest? HeaderDigest(HttpResponseHeaders headers) =>
        headers.NonValidated.TryGetValues("Docker-Content-Digest", out var values) &&
        Digest.TryParse(values.ToString().Trim(), out var d)
            ? d
            : null;

    /// <summary>
    /// Content-Type without parameters. A document that names a different type than the header is
    /// refused: the manifest/index ambiguity of CVE-2021-41190.
    /// </summary>
    private static string ManifestMediaType(byte[] body, HttpResponseMessage response)
    {
        var header = MediaTypes.Normalize(response.Content.Headers.ContentType?.ToString());
        string? embedded = null;
        try
        {
            embedded = JsonSerializer.Deserialize(body, OciJsonContext.Default.DocumentProbe)?.MediaType;
        }
        catch (JsonException)
        {
            // Not JSON: leave it to the caller's parser, which will say so with more context.
        }
        bool headerKnown = MediaTypes.IsIndex(header) || MediaTypes.IsManifest(header) || MediaTypes.IsSchema1(header);
        if (string.IsNullOrEmpty(embedded))
            return header;
        if (!headerKnown)
            return embedded;
        if (embedded != header)
            throw new RegistryException($"manifest says mediaType \"{embedded}\" but the registry served it as \"{header}\"");
        return header;
    }
}
