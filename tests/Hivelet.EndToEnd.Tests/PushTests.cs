using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;
using Hivelet.Images.Oci;

namespace Hivelet.EndToEnd.Tests;

/// <summary>hivelet push into the open test registry, checked by skopeo, HTTP and a pull back.</summary>
[Collection(RegistryCollection.Name)]
public sealed class PushTests(RegistryFixture fixture)
{
    private RegistryServer Registry => fixture.Registry;

    [E2EFact(Peers.Registry, Peers.Skopeo)]
    public async Task Pushed_image_is_served_with_the_same_digests_and_pulls_back_with_the_same_id()
    {
        var image = ImageFactory.Build(VerbImages.Alpha());
        using (var client = Registry.CreateClient())
            await RegistryPusher.PushAsync(client, "push/source", "v1", image);
        using var cli = new HiveletCli();
        await cli.RunOkAsync("pull", $"{Registry.Host}/push/source:v1");
        var target = $"{Registry.Host}/lab/pushed:v1";
        await cli.RunOkAsync("tag", $"{Registry.Host}/push/source:v1", target);

        var push = await cli.RunOkAsync("push", target);

        Assert.Contains($"The push refers to repository [{Registry.Host}/lab/pushed]", push.Stdout, StringComparison.Ordinal);
        Assert.Contains($"v1: digest: {image.Manifest.Digest} size: {image.Manifest.Size}", push.Stdout, StringComparison.Ordinal);
        Assert.Equal(image.Layers.Count + 1, ImageVerbTests.Lines(push.Stdout).Count(l => l.EndsWith(": Pushed", StringComparison.Ordinal)));

        var raw = await Skopeo.InspectRawAsync($"docker://{target}");
        Assert.Equal(image.Manifest.Digest.ToString(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw))));
        using (var client = Registry.CreateClient())
            await RegistryHarnessTests.AssertImageServedAsync(client, "lab/pushed", image);

        using var fresh = new HiveletCli();
        await fresh.RunOkAsync("pull", target);
        using var inspect = JsonDocument.Parse((await fresh.RunOkAsync("image", "inspect", target)).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());

        var again = await cli.RunOkAsync("push", target);
        Assert.Equal(image.Layers.Count + 1,
            ImageVerbTests.Lines(again.Stdout).Count(l => l.EndsWith(": Layer already exists", StringComparison.Ordinal)));
        Assert.DoesNotContain(": Pushed", again.Stdout, StringComparison.Ordinal);
    }

    [E2EFact(Peers.Registry)]
    public async Task Loaded_image_pushes_to_a_registry_and_pulls_back_with_the_same_id()
    {
        var image = ImageFactory.Build(VerbImages.Beta());
        using var cli = new HiveletCli();
        await VerbImages.LoadAsync(cli, image, "lab/loaded:v1");
        var target = $"{Registry.Host}/push/loaded:v1";
        await cli.RunOkAsync("tag", "lab/loaded:v1", target);

        await cli.RunOkAsync("push", target);

        using var fresh = new HiveletCli();
        await fresh.RunOkAsync("pull", target);
        using var inspect = JsonDocument.Parse((await fresh.RunOkAsync("image", "inspect", target)).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
        Assert.Equal(image.Layers.Select(l => l.DiffId.ToString()),
            ImageVerbTests.Strings(inspect.RootElement[0].GetProperty("RootFS").GetProperty("Layers")));
    }

    [E2ETheory(Peers.Registry, Peers.Skopeo)]
    [InlineData(ManifestFormat.Oci)]
    [InlineData(ManifestFormat.Docker)]
    public async Task Image_pulled_from_a_multi_platform_index_pushes_a_pullable_manifest(ManifestFormat format)
    {
        var index = TestImages.TwoPlatformIndex(format);
        var repo = $"push/multi-{format.ToString().ToLowerInvariant()}";
        using (var client = Registry.CreateClient())
            await RegistryPusher.PushAsync(client, repo, "v1", index);
        using var cli = new HiveletCli();
        await cli.RunOkAsync("pull", "--platform", "linux/amd64", $"{Registry.Host}/{repo}:v1");
        var target = $"{Registry.Host}/{repo}-copy:v1";
        await cli.RunOkAsync("tag", $"{Registry.Host}/{repo}:v1", target);

        await cli.RunOkAsync("push", target);

        var raw = await Skopeo.InspectRawAsync($"docker://{target}");
        using (var doc = JsonDocument.Parse(raw))
        {
            var mediaType = doc.RootElement.GetProperty("mediaType").GetString()!;
            Assert.True(MediaTypes.IsManifest(mediaType) || MediaTypes.IsIndex(mediaType), $"pushed {mediaType}");
        }
        using var fresh = new HiveletCli();
        await fresh.RunOkAsync("pull", "--platform", "linux/amd64", target);
        using var inspect = JsonDocument.Parse((await fresh.RunOkAsync("image", "inspect", target)).Stdout);
        Assert.Equal(index.Images[0].ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
        Assert.Equal("amd64", inspect.RootElement[0].GetProperty("Architecture").GetString());
    }

    [E2EFact(Peers.Registry)]
    public async Task Push_without_a_local_image_fails_and_names_it()
    {
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("push", $"{Registry.Host}/push/ghost:v1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("No such image", result.Stderr, StringComparison.Ordinal);
        using var client = Registry.CreateClient();
        using var response = await client.GetAsync(new Uri("v2/push/ghost/tags/list", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

/// <summary>hivelet push into the htpasswd registry after hivelet login.</summary>
[Collection(AuthRegistryCollection.Name)]
public sealed class AuthPushTests(AuthRegistryFixture fixture)
{
    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Push_to_the_htpasswd_registry_needs_login_and_then_lands()
    {
        var registry = fixture.Registry;
        var image = ImageFactory.Build(VerbImages.Alpha());
        using var cli = new HiveletCli();
        await VerbImages.LoadAsync(cli, image, "lab/private:v1");
        var target = $"{registry.Host}/push/private:v1";
        await cli.RunOkAsync("tag", "lab/private:v1", target);

        var denied = await cli.RunAsync("push", target);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("unauthorized", denied.Stderr, StringComparison.OrdinalIgnoreCase);

        (await cli.RunAsync(["login", "-u", registry.Credential!.UserName, "--password-stdin", registry.Host],
            stdin: registry.Credential.Password + "\n")).EnsureSuccess();
        var push = await cli.RunOkAsync("push", target);
        Assert.Contains("v1: digest: sha256:", push.Stdout, StringComparison.Ordinal);

        using var client = registry.CreateClient();
        // A docker-save archive carries uncompressed layers, so those are what a loaded image pushes.
        foreach (var digest in image.Layers.Select(l => l.DiffId).Prepend(image.Config.Digest))
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"v2/push/private/blobs/{digest}");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
