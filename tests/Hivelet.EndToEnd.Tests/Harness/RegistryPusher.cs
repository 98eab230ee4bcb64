using System.Net;
using System.Net.Http.Headers;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// Pushes built images byte-for-byte over the registry API (monolithic blob uploads, then
/// manifests children first). For what skopeo cannot push from an OCI layout, such as Docker
/// manifest lists, and for tests that need exact bytes in the registry.
/// </summary>
public static class RegistryPusher
{
    public static async Task PushAsync(HttpClient client, string repo, string tag, IBuiltRoot root)
    {
        var blobs = root.Blobs().ToList();
        foreach (var blob in blobs.Where(b => !IsManifest(b.MediaType)).DistinctBy(b => b.Digest))
            await PushBlobAsync(client, repo, blob);
        // Children before parents: a registry may refuse an index whose manifests are unknown.
        foreach (var manifest in blobs.Where(b => IsManifest(b.MediaType) && b != root.Root).DistinctBy(b => b.Digest))
            await PutManifestAsync(client, repo, manifest.Digest.ToString(), manifest);
        await PutManifestAsync(client, repo, tag, root.Root);
    }

    public static async Task PushBlobAsync(HttpClient client, string repo, Blob blob)
    {
        using var start = await client.PostAsync(new Uri($"v2/{repo}/blobs/uploads/", UriKind.Relative), null);
        Expect(start, HttpStatusCode.Accepted, $"start upload of {blob.Digest}");
        var location = start.Headers.Location ?? throw new InvalidOperationException("upload without Location");
        var separator = location.OriginalString.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var put = new Uri($"{location.OriginalString}{separator}digest={Uri.EscapeDataString(blob.Digest.ToString())}",
            location.IsAbsoluteUri ? UriKind.Absolute : UriKind.Relative);
        using var content = new ByteArrayContent(blob.Content);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await client.PutAsync(put, content);
        Expect(done, HttpStatusCode.Created, $"upload {blob.Digest}");
    }

    public static async Task PutManifestAsync(HttpClient client, string repo, string reference, Blob manifest)
    {
        using var content = new ByteArrayContent(manifest.Content);
        content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        using var response = await client.PutAsync(new Uri($"v2/{repo}/manifests/{reference}", UriKind.Relative), content);
        Expect(response, HttpStatusCode.Created, $"put manifest {repo}:{reference}");
    }

    private static bool IsManifest(string mediaType) =>
        Hivelet.Images.Oci.MediaTypes.IsManifest(mediaType) || Hivelet.Images.Oci.MediaTypes.IsIndex(mediaType);

    private static void Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status)
        {
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            throw new InvalidOperationException($"{what}: HTTP {(int)response.StatusCode}: {body}");
        }
    }
}
