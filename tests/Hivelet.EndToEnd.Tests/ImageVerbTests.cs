using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>images, image inspect, tag, rmi and image prune on the published binary.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ImageVerbTests(RegistryFixture fixture)
{
    [Fact]
    public async Task Images_prints_docker_columns_filters_by_repository_and_lists_ids_with_q()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var beta = ImageFactory.Build(VerbImages.Beta());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await VerbImages.LoadAsync(cli, beta, "lab/beta:v1");

        var all = await cli.RunOkAsync("images");
        var lines = Lines(all.Stdout);
        Assert.Matches(@"^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$", lines[0]);
        Assert.Equal(3, lines.Count);
        Assert.Contains(lines, l => Row(l) is ["lab/alpha", "v1", var id, ..] && id == Short(alpha.ImageId.Encoded));
        Assert.Contains(lines, l => Row(l) is ["lab/beta", "v1", var id, ..] && id == Short(beta.ImageId.Encoded));

        var filtered = Lines((await cli.RunOkAsync("images", "lab/alpha")).Stdout);
        Assert.Equal(2, filtered.Count);
        Assert.StartsWith("lab/alpha ", filtered[1], StringComparison.Ordinal);
        Assert.Single(Lines((await cli.RunOkAsync("image", "ls", "lab/beta:v1")).Stdout).Skip(1));
        Assert.Single(Lines((await cli.RunOkAsync("images", "lab/beta:nope")).Stdout));

        var quiet = Lines((await cli.RunOkAsync("images", "-q")).Stdout);
        Assert.Equal([Short(alpha.ImageId.Encoded), Short(beta.ImageId.Encoded)], quiet.Order(StringComparer.Ordinal));
    }

    [E2EFact(Peers.Registry)]
    public async Task Images_with_digests_shows_the_registry_manifest_digest_of_a_pulled_image()
    {
        var image = ImageFactory.Build(VerbImages.Alpha());
        using (var client = fixture.Registry.CreateClient())
            await RegistryPusher.PushAsync(client, "verbs/digests", "v1", image);
        using var cli = new HiveletCli();
        await cli.RunOkAsync("pull", $"{fixture.Registry.Host}/verbs/digests:v1");

        var lines = Lines((await cli.RunOkAsync("images", "--digests")).Stdout);
        Assert.Matches(@"^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$", lines[0]);
        var row = Row(Assert.Single(lines.Skip(1)));
        Assert.Equal([$"{fixture.Registry.Host}/verbs/digests", "v1", image.Manifest.Digest.ToString(), Short(image.ImageId.Encoded)],
            row.Take(4));
    }

    [Fact]
    public async Task Image_inspect_prints_docker_shaped_json_for_several_images()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var arm = ImageFactory.Build(VerbImages.Beta(architecture: "arm64", variant: "v8"));
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await VerbImages.LoadAsync(cli, arm, "lab/arm:v8", "--platform", "linux/arm64/v8");

        var result = await cli.RunOkAsync("image", "inspect", "lab/alpha:v1", "lab/arm:v8");
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, json.RootElement.GetArrayLength());

        var a = json.RootElement[0];
        Assert.Equal(alpha.ImageId.ToString(), a.GetProperty("Id").GetString());
        Assert.Equal(["lab/alpha:v1"], Strings(a.GetProperty("RepoTags")));
        Assert.Equal(JsonValueKind.Array, a.GetProperty("RepoDigests").ValueKind);
        Assert.Equal("amd64", a.GetProperty("Architecture").GetString());
        Assert.Equal("linux", a.GetProperty("Os").GetString());
        Assert.Equal(["/hello"], Strings(a.GetProperty("Config").GetProperty("Cmd")));
        Assert.Contains(Strings(a.GetProperty("Config").GetProperty("Env")), e => e.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.Equal(alpha.Layers.Select(l => l.DiffId.ToString()), Strings(a.GetProperty("RootFS").GetProperty("Layers")));

        var b = json.RootElement[1];
        Assert.Equal(arm.ImageId.ToString(), b.GetProperty("Id").GetString());
        Assert.Equal("arm64", b.GetProperty("Architecture").GetString());
        Assert.Equal("v8", b.GetProperty("Variant").GetString());
        Assert.Equal(arm.Layers.Select(l => l.DiffId.ToString()), Strings(b.GetProperty("RootFS").GetProperty("Layers")));
    }

    [Fact]
    public async Task Image_inspect_of_an_unknown_image_exits_1_with_no_such_image()
    {
        using var cli = new HiveletCli();
        await VerbImages.LoadAsync(cli, ImageFactory.Build(VerbImages.Alpha()), "lab/alpha:v1");

        var result = await cli.RunAsync("image", "inspect", "lab/alpha:v1", "lab/ghost:v1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Error: No such image: lab/ghost:v1", result.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(1, json.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Tag_adds_a_name_with_the_same_id_and_refuses_a_digest_target()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");

        await cli.RunOkAsync("tag", "lab/alpha:v1", "other/name:v2");
        await cli.RunOkAsync("image", "tag", Short(alpha.ImageId.Encoded), "third");

        var rows = Lines((await cli.RunOkAsync("images")).Stdout).Skip(1).Select(Row).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(Short(alpha.ImageId.Encoded), r[2]));
        Assert.Contains(rows, r => r[0] == "other/name" && r[1] == "v2");
        Assert.Contains(rows, r => r[0] == "third" && r[1] == "latest");

        var refused = await cli.RunAsync("tag", "lab/alpha:v1", $"lab/alpha@{alpha.Manifest.Digest}");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("digest", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, Lines((await cli.RunOkAsync("images")).Stdout).Count - 1);
    }

    [Fact]
    public async Task Rmi_untags_a_name_and_needs_force_to_delete_an_id_with_several_tags()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await cli.RunOkAsync("tag", "lab/alpha:v1", "lab/alpha:v2");
        await cli.RunOkAsync("tag", "lab/alpha:v1", "lab/copy:v1");

        var untag = await cli.RunOkAsync("rmi", "lab/alpha:v2");
        Assert.Equal("Untagged: lab/alpha:v2", untag.Stdout.Trim());
        Assert.True(File.Exists(VerbImages.BlobPath(cli, alpha.Config.Digest.Encoded)));

        var id = Short(alpha.ImageId.Encoded);
        var conflict = await cli.RunAsync("rmi", id);
        Assert.Equal(1, conflict.ExitCode);
        Assert.Contains("must be forced", conflict.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, Lines((await cli.RunOkAsync("images")).Stdout).Count - 1);

        var forced = await cli.RunOkAsync("rmi", "-f", id);
        Assert.Contains("Untagged: lab/alpha:v1", forced.Stdout, StringComparison.Ordinal);
        Assert.Contains("Untagged: lab/copy:v1", forced.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Deleted: {alpha.ImageId}", forced.Stdout, StringComparison.Ordinal);
        Assert.Single(Lines((await cli.RunOkAsync("images")).Stdout));
    }

    [E2EFact(Peers.Registry)]
    public async Task Rmi_of_a_repository_digest_drops_only_that_reference_and_keeps_the_tagged_image()
    {
        var image = ImageFactory.Build(VerbImages.Alpha());
        using (var client = fixture.Registry.CreateClient())
            await RegistryPusher.PushAsync(client, "verbs/rmi-digest", "v1", image);
        using var cli = new HiveletCli();
        var tagged = $"{fixture.Registry.Host}/verbs/rmi-digest:v1";
        var byDigest = $"{fixture.Registry.Host}/verbs/rmi-digest@{image.Manifest.Digest}";
        await cli.RunOkAsync("pull", tagged);
        await cli.RunOkAsync("tag", tagged, $"{fixture.Registry.Host}/verbs/rmi-digest:v2");

        var result = await cli.RunOkAsync("rmi", byDigest);

        Assert.Equal($"Untagged: {byDigest}", result.Stdout.Trim());
        Assert.Equal(2, Lines((await cli.RunOkAsync("images")).Stdout).Count - 1);
        using var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", tagged)).Stdout);
        Assert.Equal(0, inspect.RootElement[0].GetProperty("RepoDigests").GetArrayLength());
        Assert.True(File.Exists(VerbImages.BlobPath(cli, image.Config.Digest.Encoded)));
        var again = await cli.RunAsync("rmi", byDigest);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("No such image", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rmi_frees_the_blobs_and_snapshots_of_a_deleted_image_but_keeps_those_another_image_shares()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var beta = ImageFactory.Build(VerbImages.Beta());
        // Alpha and Beta share their first layer and nothing else.
        Assert.Equal(alpha.Layers[0].Blob.Digest, beta.Layers[0].Blob.Digest);
        Assert.NotEqual(alpha.Layers[1].Blob.Digest, beta.Layers[1].Blob.Digest);
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await VerbImages.LoadAsync(cli, beta, "lab/beta:v1");
        var alphaChains = VerbImages.ChainIds(alpha);
        var betaChains = VerbImages.ChainIds(beta);
        Assert.All(alphaChains.Concat(betaChains), c => Assert.NotNull(VerbImages.FindSnapshot(cli, c)));
        Assert.All(alpha.Layers.Select(l => l.DiffId).Prepend(alpha.Config.Digest),
            d => Assert.True(File.Exists(VerbImages.BlobPath(cli, d.Encoded)), $"{d} not stored after load"));

        var result = await cli.RunOkAsync("rmi", "lab/alpha:v1");
        Assert.Contains($"Deleted: {alpha.ImageId}", result.Stdout, StringComparison.Ordinal);

        // A docker-save archive carries uncompressed layers: their blobs are named by diff_id.
        Assert.False(File.Exists(VerbImages.BlobPath(cli, alpha.Config.Digest.Encoded)), "alpha's config survived");
        Assert.False(File.Exists(VerbImages.BlobPath(cli, alpha.Layers[1].DiffId.Encoded)), "alpha's own layer survived");
        Assert.Null(VerbImages.FindSnapshot(cli, alphaChains[1]));
        Assert.True(File.Exists(VerbImages.BlobPath(cli, alpha.Layers[0].DiffId.Encoded)), "the shared layer was deleted");
        Assert.NotNull(VerbImages.FindSnapshot(cli, alphaChains[0]));
        foreach (var digest in beta.Layers.Select(l => l.DiffId).Prepend(beta.Config.Digest))
            Assert.True(File.Exists(VerbImages.BlobPath(cli, digest.Encoded)), $"beta's blob {digest} was deleted");
        Assert.All(betaChains, c => Assert.NotNull(VerbImages.FindSnapshot(cli, c)));
        await cli.RunOkAsync("image", "inspect", "lab/beta:v1");
    }

    [E2EFact(Peers.Registry)]
    public async Task Image_prune_removes_dangling_images_only_unless_given_all()
    {
        var dangling = ImageFactory.Build(VerbImages.Beta());
        using (var client = fixture.Registry.CreateClient())
            await RegistryPusher.PushAsync(client, "verbs/prune", "v1", dangling);
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        // Pulled by digest only: no tag names it, so it is dangling.
        await cli.RunOkAsync("pull", $"{fixture.Registry.Host}/verbs/prune@{dangling.Manifest.Digest}");
        Assert.Equal(2, Lines((await cli.RunOkAsync("images", "-q")).Stdout).Count);

        var prune = await cli.RunOkAsync("image", "prune", "-f");
        Assert.Contains("Deleted Images:", prune.Stdout, StringComparison.Ordinal);
        Assert.Contains($"untagged: {fixture.Registry.Host}/verbs/prune@{dangling.Manifest.Digest}", prune.Stdout, StringComparison.Ordinal);
        Assert.Contains($"deleted: {dangling.ImageId}", prune.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(alpha.ImageId.ToString(), prune.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Total reclaimed space: [1-9][0-9.]*\s?[kMG]?B", prune.Stdout);
        Assert.Equal([Short(alpha.ImageId.Encoded)], Lines((await cli.RunOkAsync("images", "-q")).Stdout));
        Assert.False(File.Exists(VerbImages.BlobPath(cli, dangling.Config.Digest.Encoded)));

        var again = await cli.RunOkAsync("image", "prune", "-f");
        Assert.Equal("Total reclaimed space: 0B", again.Stdout.Trim());

        var all = await cli.RunOkAsync("image", "prune", "-a", "-f");
        Assert.Contains("untagged: lab/alpha:v1", all.Stdout, StringComparison.Ordinal);
        Assert.Contains($"deleted: {alpha.ImageId}", all.Stdout, StringComparison.Ordinal);
        Assert.Contains("Total reclaimed space:", all.Stdout, StringComparison.Ordinal);
        Assert.Empty(Lines((await cli.RunOkAsync("images", "-q")).Stdout));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(cli.Root, "content", "blobs", "sha256")));
    }

    internal static List<string> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>A table row split on the two-or-more spaces between columns.</summary>
    internal static string[] Row(string line) =>
        System.Text.RegularExpressions.Regex.Split(line.Trim(), @"\s{2,}");

    internal static string Short(string hex) => hex[..12];

    internal static List<string> Strings(JsonElement array) =>
        array.EnumerateArray().Select(e => e.GetString()!).ToList();
}

/// <summary>Small images for the verb tests and the way they get into a root: `hivelet load`.</summary>
internal static class VerbImages
{
    private static LayerDefinition SharedBase() =>
        new LayerDefinition().Dir("etc/").File("etc/os-release", "ID=hivelet-test\n").File("etc/shared", "base\n");

    public static ImageDefinition Alpha(ManifestFormat format = ManifestFormat.Oci) =>
        new ImageDefinition { Cmd = ["/hello"], Format = format }
            .Layer(SharedBase())
            .Layer(new LayerDefinition().File("hello", "alpha\n", mode: 0b111_101_101));

    public static ImageDefinition Beta(string architecture = "amd64", string? variant = null) =>
        new ImageDefinition { Cmd = ["/beta"], Architecture = architecture, Variant = variant }
            .Layer(SharedBase())
            .Layer(new LayerDefinition().File("beta", $"beta {architecture}\n", mode: 0b111_101_101));

    /// <summary>Writes a docker-save archive of <paramref name="image"/> named <paramref name="tag"/> and loads it.</summary>
    public static async Task LoadAsync(HiveletCli cli, BuiltImage image, string tag, params string[] extra)
    {
        using var dir = new TempDirectory("hivelet-e2e-archive");
        var tar = dir.Combine("image.tar");
        DockerArchive.Create(image, [tag], DockerArchiveStyle.Legacy).WriteTar(tar);
        await cli.RunOkAsync(["load", "-i", tar, .. extra]);
    }

    public static string BlobPath(HiveletCli cli, string hex) => Path.Combine(cli.Root, "content", "blobs", "sha256", hex);

    /// <summary>Chain IDs of the image's layers, bottom first (images research §4.2).</summary>
    public static List<string> ChainIds(BuiltImage image)
    {
        var chains = new List<string>();
        string? chain = null;
        foreach (var layer in image.Layers)
        {
            var diff = layer.DiffId.ToString();
            chain = chain is null
                ? diff
                : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes($"{chain} {diff}")));
            chains.Add(chain);
        }
        return chains;
    }

    /// <summary>The snapshot directory of <paramref name="chainId"/> under the root's snapshots/, or null.</summary>
    public static string? FindSnapshot(HiveletCli cli, string chainId)
    {
        var snapshots = Path.Combine(cli.Root, "snapshots");
        if (!Directory.Exists(snapshots))
            return null;
        var name = chainId.Replace(':', '-');
        return Directory.EnumerateDirectories(snapshots, name, new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2 })
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "meta.json")));
    }
}
