using System.Globalization;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>`images` as Docker shows it: moved tags leave dangling images, unpacked sizes, --format and -f.</summary>
public sealed class ImageListTests
{
    [Fact]
    public async Task A_tag_moved_by_load_leaves_the_old_image_dangling_until_image_prune()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var beta = ImageFactory.Build(VerbImages.Beta());
        await VerbImages.LoadAsync(cli, alpha, "lab/app:v1");
        await VerbImages.LoadAsync(cli, beta, "lab/app:v1");

        var rows = ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout).Skip(1).Select(ImageVerbTests.Row).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r is ["lab/app", "v1", var id, ..] && id == Short(beta));
        Assert.Contains(rows, r => r is ["<none>", "<none>", var id, ..] && id == Short(alpha));
        Assert.Equal([Short(alpha)], Lines(await cli.RunOkAsync("images", "-q", "-f", "dangling=true")));
        Assert.Equal([Short(beta)], Lines(await cli.RunOkAsync("images", "-q", "--filter", "dangling=false")));
        Assert.True(File.Exists(VerbImages.BlobPath(cli, alpha.Config.Digest.Encoded)));

        var prune = await cli.RunOkAsync("image", "prune", "-f");

        Assert.Contains($"deleted: {alpha.ImageId}", prune.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("untagged", prune.Stdout, StringComparison.Ordinal);
        Assert.Equal([Short(beta)], Lines(await cli.RunOkAsync("images", "-q")));
        Assert.False(File.Exists(VerbImages.BlobPath(cli, alpha.Config.Digest.Encoded)));
    }

    [Fact]
    public async Task A_tag_moved_by_tag_leaves_a_dangling_image_that_rmi_by_id_deletes()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var beta = ImageFactory.Build(VerbImages.Beta());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await VerbImages.LoadAsync(cli, beta, "lab/beta:v1");

        await cli.RunOkAsync("tag", "lab/beta:v1", "lab/alpha:v1");

        var json = await cli.RunOkAsync("images", "--format", "{{json .}}", "-f", "dangling=true");
        using (var row = JsonDocument.Parse(Assert.Single(Lines(json))))
        {
            Assert.Equal("<none>", row.RootElement.GetProperty("Repository").GetString());
            Assert.Equal("<none>", row.RootElement.GetProperty("Tag").GetString());
            Assert.Equal(Short(alpha), row.RootElement.GetProperty("ID").GetString());
        }
        using (var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", Short(alpha))).Stdout))
            Assert.Equal(0, inspect.RootElement[0].GetProperty("RepoTags").GetArrayLength());

        var rmi = await cli.RunOkAsync("rmi", Short(alpha));

        Assert.Equal($"Deleted: {alpha.ImageId}", rmi.Stdout.Trim());
        // beta is lab/alpha:v1 and lab/beta:v1: one row, so one ID, per name.
        Assert.Equal([beta.ImageId.ToString(), beta.ImageId.ToString()], Lines(await cli.RunOkAsync("images", "-q", "--no-trunc")));
    }

    [Fact]
    public async Task Quiet_prints_the_id_once_per_row_as_docker_does()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var beta = ImageFactory.Build(VerbImages.Beta());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await VerbImages.LoadAsync(cli, beta, "lab/beta:v1");
        await cli.RunOkAsync("tag", "lab/alpha:v1", "lab/alpha:v2");
        await cli.RunOkAsync("tag", "lab/alpha:v1", "other/alpha:latest");

        var table = ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout).Skip(1).Select(ImageVerbTests.Row).ToList();
        var quiet = Lines(await cli.RunOkAsync("images", "-q"));

        Assert.Equal(4, table.Count);
        Assert.Equal(table.Select(r => r[2]), quiet);
        Assert.Equal(3, quiet.Count(id => id == Short(alpha)));
        Assert.Equal([Short(alpha), Short(alpha)], Lines(await cli.RunOkAsync("images", "-q", "lab/alpha")));
    }

    [Fact]
    public async Task Size_is_the_unpacked_size_of_the_layers()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        long unpacked = alpha.Layers.Sum(l => (long)l.Tar.Length);
        Assert.NotEqual(unpacked, alpha.Layers.Sum(l => l.Blob.Size));

        using var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", "lab/alpha:v1")).Stdout);
        Assert.Equal(unpacked, inspect.RootElement[0].GetProperty("Size").GetInt64());
        Assert.Equal([HumanSize(unpacked)], Lines(await cli.RunOkAsync("images", "--format", "{{.Size}}")));
    }

    [Fact]
    public async Task Format_renders_fields_tables_and_refuses_unknown_fields()
    {
        using var cli = new HiveletCli();
        var alpha = ImageFactory.Build(VerbImages.Alpha());
        var beta = ImageFactory.Build(VerbImages.Beta());
        await VerbImages.LoadAsync(cli, alpha, "lab/alpha:v1");
        await VerbImages.LoadAsync(cli, beta, "other/beta:v2");

        var plain = Lines(await cli.RunOkAsync("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}"));
        Assert.Equal([$"lab/alpha:v1 {Short(alpha)} <none>", $"other/beta:v2 {Short(beta)} <none>"], plain.Order(StringComparer.Ordinal));

        var table = Lines(await cli.RunOkAsync("images", "--format", "table {{.Repository}}\\t{{.Tag}}\\t{{.CreatedAt}}", "lab/alpha"));
        Assert.Equal(2, table.Count);
        Assert.Matches(@"^REPOSITORY\s{3,}TAG\s{3,}CREATED AT$", table[0]);
        Assert.Matches(@"^lab/alpha\s{3,}v1\s{3,}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$", table[1]);

        Assert.Equal(["other/beta"], Lines(await cli.RunOkAsync("images", "--format", "{{.Repository}}", "-f", "reference=other/*")));
        Assert.Equal(["lab/alpha"], Lines(await cli.RunOkAsync("images", "--format", "{{.Repository}}", "-f", "reference=*/alpha:v1")));
        Assert.Empty(Lines(await cli.RunOkAsync("images", "--format", "{{.Repository}}", "-f", "reference=lab/*:v2")));

        var unknown = await cli.RunAsync("images", "--format", "{{.Nope}}");
        Assert.Equal(125, unknown.ExitCode);
        Assert.Contains("can't evaluate field Nope", unknown.Stderr, StringComparison.Ordinal);
        var badFilter = await cli.RunAsync("images", "-f", "color=blue");
        Assert.Equal(125, badFilter.ExitCode);
        Assert.Contains("invalid filter", badFilter.Stderr, StringComparison.Ordinal);
    }

    private static string Short(BuiltImage image) => image.ImageId.Encoded[..12];

    private static List<string> Lines(ProcessResult result) => ImageVerbTests.Lines(result.Stdout);

    /// <summary>Docker's units.HumanSize: decimal units, 4 significant digits.</summary>
    private static string HumanSize(double bytes)
    {
        string[] suffixes = ["B", "kB", "MB", "GB"];
        int i = 0;
        while (bytes >= 1000 && i < suffixes.Length - 1)
        {
            bytes /= 1000;
            i++;
        }
        return bytes.ToString(bytes < 10 ? "0.###" : bytes < 100 ? "0.##" : "0.#", CultureInfo.InvariantCulture) + suffixes[i];
    }
}

/// <summary>The unpacked size is recorded by pulls too (the streamed, concurrent unpack path).</summary>
[Collection(RegistryCollection.Name)]
public sealed class PulledImageSizeTests(RegistryFixture fixture)
{
    [E2EFact(Peers.Registry)]
    public async Task A_pulled_image_reports_the_unpacked_size_of_its_layers()
    {
        var image = ImageFactory.Build(VerbImages.Alpha());
        using (var client = fixture.Registry.CreateClient())
            await RegistryPusher.PushAsync(client, "sizes/alpha", "v1", image);
        using var cli = new HiveletCli();
        var reference = $"{fixture.Registry.Host}/sizes/alpha:v1";

        await cli.RunOkAsync("pull", reference);

        using var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", reference)).Stdout);
        Assert.Equal(image.Layers.Sum(l => (long)l.Tar.Length), inspect.RootElement[0].GetProperty("Size").GetInt64());
    }
}
