using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;
using Hivelet.Images.Oci;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// Pulls that must fail cleanly: content altered on the registry's disk, missing tags and
/// repositories, a dead port, a malformed reference. Exit 125, one line naming the subject, and
/// nothing half-done left that looks complete.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class PullIntegrityTests(RegistryFixture fixture)
{
    [E2EFact(Peers.Registry)]
    public async Task Layer_altered_on_the_registry_fails_the_pull_with_a_digest_error_naming_the_blob()
    {
        // Unique content: blobs are shared by every repository of the registry.
        var image = ImageFactory.Build(TestImages.Small($"bad-layer-{Guid.NewGuid():N}"));
        var reference = await PullSupport.PushAsync(fixture.Registry, "integrity/layer", "v1", image);
        var layer = image.Layers[0].Blob.Digest;
        CorruptRegistryBlob(layer);
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", reference);

        Assert.Equal(125, result.ExitCode);
        var error = PullSupport.SingleErrorLine(result);
        Assert.Contains(layer.ToString(), error, StringComparison.Ordinal);
        Assert.Contains("digest", error, StringComparison.OrdinalIgnoreCase);
        await AssertNothingRecordedAsync(cli);
        Assert.False(File.Exists(BlobPath(cli, layer)), "the altered layer was committed to the content store");
    }

    [E2EFact(Peers.Registry)]
    public async Task Config_altered_on_the_registry_fails_the_pull_with_a_digest_error_naming_the_blob()
    {
        var image = ImageFactory.Build(TestImages.Small($"bad-config-{Guid.NewGuid():N}"));
        var reference = await PullSupport.PushAsync(fixture.Registry, "integrity/config", "v1", image);
        CorruptRegistryBlob(image.Config.Digest);
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", reference);

        Assert.Equal(125, result.ExitCode);
        var error = PullSupport.SingleErrorLine(result);
        Assert.Contains(image.Config.Digest.ToString(), error, StringComparison.Ordinal);
        Assert.Contains("digest", error, StringComparison.OrdinalIgnoreCase);
        await AssertNothingRecordedAsync(cli);
        Assert.False(File.Exists(BlobPath(cli, image.Config.Digest)), "the altered config was committed to the content store");
    }

    [E2EFact(Peers.Registry)]
    public async Task Tag_that_does_not_exist_fails_with_one_line_naming_the_tag()
    {
        var image = ImageFactory.Build(TestImages.Small("missing-tag"));
        await PullSupport.PushAsync(fixture.Registry, "integrity/missing-tag", "v1", image);
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", $"{fixture.Registry.Host}/integrity/missing-tag:nope");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains("integrity/missing-tag:nope", PullSupport.SingleErrorLine(result), StringComparison.Ordinal);
        await AssertNothingRecordedAsync(cli);
    }

    [E2EFact(Peers.Registry)]
    public async Task Repository_that_does_not_exist_fails_with_one_line_naming_it()
    {
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", $"{fixture.Registry.Host}/integrity/no-such-repo:v1");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains("integrity/no-such-repo", PullSupport.SingleErrorLine(result), StringComparison.Ordinal);
        await AssertNothingRecordedAsync(cli);
    }

    [Fact]
    public async Task Registry_port_nobody_listens_on_fails_with_one_line_naming_the_registry()
    {
        int port = DeadPort();
        using var cli = new HiveletCli();
        // One attempt: the retry back-off would only slow the test down.
        var config = Path.Combine(cli.Home, "config.json");
        await File.WriteAllTextAsync(config, "{\"max-download-attempts\": 1}");

        var result = await cli.RunAsync("--config", config, "pull", $"127.0.0.1:{port}/integrity/dead:v1");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", PullSupport.SingleErrorLine(result), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UPPER/case:v1")]
    [InlineData("repo:tag:extra")]
    [InlineData("repo@sha256:1234")]
    [InlineData("-flag-like/..//x")]
    public async Task Malformed_reference_fails_with_one_line_quoting_it(string reference)
    {
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", "--", reference);

        Assert.Equal(125, result.ExitCode);
        Assert.Contains(reference, PullSupport.SingleErrorLine(result), StringComparison.Ordinal);
    }

    /// <summary>Flips one byte of the blob's data file in the registry's storage; the size stays.</summary>
    private void CorruptRegistryBlob(Digest digest)
    {
        var path = Path.Combine(fixture.Registry.StorageDirectory, "docker", "registry", "v2", "blobs",
            digest.Algorithm, digest.Encoded[..2], digest.Encoded, "data");
        Assert.True(File.Exists(path), $"registry blob {path} not found");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5a;
        File.WriteAllBytes(path, bytes);
    }

    private static string BlobPath(HiveletCli cli, Digest digest) =>
        Path.Combine(cli.Root, "content", "blobs", digest.Algorithm, digest.Encoded);

    /// <summary>No image listed, and every committed blob hashes to its name.</summary>
    private static async Task AssertNothingRecordedAsync(HiveletCli cli)
    {
        var images = (await cli.RunAsync("images", "-q")).EnsureSuccess();
        Assert.Equal("", images.Stdout.Trim());
        var blobs = Path.Combine(cli.Root, "content", "blobs", "sha256");
        if (!Directory.Exists(blobs))
            return;
        foreach (var file in Directory.EnumerateFiles(blobs))
            Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));
    }

    private static int DeadPort()
    {
        // Bound then closed: nothing listens there for the moment the test needs.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
