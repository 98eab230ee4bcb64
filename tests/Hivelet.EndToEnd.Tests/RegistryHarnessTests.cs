using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;
using Hivelet.Images.Oci;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// Proves the harness before the pull tests land: an image ImageBuilder writes, pushed by
/// skopeo, is served by the registry fixture with exactly the digests ImageBuilder computed.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class RegistryHarnessTests(RegistryFixture fixture)
{
    [E2EFact(Peers.Registry, Peers.Skopeo)]
    public async Task Pushed_index_is_served_with_the_digests_ImageBuilder_wrote()
    {
        var index = TestImages.TwoPlatformIndex(ManifestFormat.Oci);
        await PushAsync(index, "harness/multi:v1");

        using var client = fixture.Registry.CreateClient();
        await AssertServedAsync(client, "harness/multi", "v1", index.Index);
        foreach (var image in index.Images)
            await AssertImageServedAsync(client, "harness/multi", image);
    }

    [E2EFact(Peers.Registry)]
    public async Task Pushed_docker_manifest_list_keeps_its_media_types()
    {
        // skopeo's oci: transport only follows OCI types, so this goes over the API directly.
        var list = TestImages.TwoPlatformIndex(ManifestFormat.Docker);
        using var client = fixture.Registry.CreateClient();
        await RegistryPusher.PushAsync(client, "harness/docker-list", "v1", list);

        await AssertServedAsync(client, "harness/docker-list", "v1", list.Index);
        await AssertImageServedAsync(client, "harness/docker-list", list.Images[1]);
    }

    private async Task PushAsync(IBuiltRoot root, string repoAndTag)
    {
        using var layout = new TempDirectory("hivelet-e2e-layout");
        OciLayout.Create(new LayoutRef("push", root)).WriteDirectory(layout.Combine("oci"));
        await Skopeo.PushLayoutAsync(layout.Combine("oci"), "push", fixture.Registry, repoAndTag);
    }

    internal static async Task AssertServedAsync(HttpClient client, string repo, string reference, Blob expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repo}/manifests/{reference}");
        request.Headers.Accept.ParseAdd(MediaTypes.ManifestAccept);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected.MediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected.Digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(expected.Content, await response.Content.ReadAsByteArrayAsync());
    }

    internal static async Task AssertImageServedAsync(HttpClient client, string repo, BuiltImage image)
    {
        await AssertServedAsync(client, repo, image.Manifest.Digest.ToString(), image.Manifest);
        foreach (var blob in image.Layers.Select(l => l.Blob).Prepend(image.Config))
        {
            using var response = await client.GetAsync(new Uri($"v2/{repo}/blobs/{blob.Digest}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(blob.Digest.Encoded, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }
}

[Collection(AuthRegistryCollection.Name)]
public sealed class AuthRegistryHarnessTests(AuthRegistryFixture fixture)
{
    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Registry_with_htpasswd_asks_for_basic_auth_and_admits_the_user()
    {
        using var anonymous = fixture.Registry.CreateClient(authenticate: false);
        using var denied = await anonymous.GetAsync(new Uri("v2/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        var challenge = Assert.Single(denied.Headers.WwwAuthenticate);
        Assert.Equal("Basic", challenge.Scheme);

        using var wrong = fixture.Registry.CreateClient(authenticate: false);
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String("hivelet-test:wrong"u8.ToArray()));
        using var rejected = await wrong.GetAsync(new Uri("v2/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);

        using var user = fixture.Registry.CreateClient();
        using var admitted = await user.GetAsync(new Uri("v2/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd, Peers.Skopeo)]
    public async Task Push_with_credentials_lands_in_the_auth_registry()
    {
        var image = ImageFactory.Build(TestImages.Small("auth"));
        using var layout = new TempDirectory("hivelet-e2e-layout");
        OciLayout.Create(new LayoutRef("push", image)).WriteDirectory(layout.Combine("oci"));
        await Skopeo.PushLayoutAsync(layout.Combine("oci"), "push", fixture.Registry, "harness/private:v1");

        using var client = fixture.Registry.CreateClient();
        await RegistryHarnessTests.AssertImageServedAsync(client, "harness/private", image);
    }
}

/// <summary>The layouts ./build.sh fixtures wrote go through skopeo and the registry unchanged.</summary>
[Collection(RegistryCollection.Name)]
public sealed class FixtureLayoutTests(RegistryFixture fixture)
{
    [E2ETheory(Peers.Registry, Peers.Skopeo)]
    [InlineData("hivelet-fixture.oci", "fixtures/hivelet-fixture")]
    [InlineData("busybox-multi.oci", "fixtures/busybox-multi")]
    [InlineData("layered.oci", "fixtures/layered")]
    public async Task Built_fixture_layout_is_served_with_its_digest(string layoutName, string repo)
    {
        var layout = Path.Combine(RepoPaths.FixturesDir, layoutName);
        Assert.True(Directory.Exists(layout), $"{layout} is missing: run ./build.sh fixtures (or set HIVELET_FIXTURES)");
        var index = System.Text.Json.JsonSerializer.Deserialize(
            await File.ReadAllBytesAsync(Path.Combine(layout, "index.json")), OciJsonContext.Default.ImageIndex)!;
        var root = index.Manifests.Single(d => d.Annotations?[OciLayout.RefNameAnnotation] == "latest");

        await Skopeo.PushLayoutAsync(layout, "latest", fixture.Registry, $"{repo}:latest");

        var blob = new Blob(root.MediaType,
            await File.ReadAllBytesAsync(Path.Combine(layout, "blobs", "sha256", root.ParsedDigest().Encoded)));
        Assert.Equal(root.Digest, blob.Digest.ToString());
        using var client = fixture.Registry.CreateClient();
        await RegistryHarnessTests.AssertServedAsync(client, repo, "latest", blob);
    }
}
