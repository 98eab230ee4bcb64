using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>hivelet save and load against skopeo's docker-archive: and oci-archive: transports.</summary>
public sealed class ArchiveTests
{
    [E2EFact(Peers.Skopeo)]
    public async Task Saved_archive_is_read_by_skopeo_under_each_of_its_tags()
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-save");
        var image = ImageFactory.Build(VerbImages.Alpha());
        await VerbImages.LoadAsync(cli, image, "lab/alpha:v1");
        await cli.RunOkAsync("tag", "lab/alpha:v1", "lab/alpha:second");
        var archive = dir.Combine("saved.tar");

        var save = await cli.RunOkAsync("save", "-o", archive, "lab/alpha:v1", "lab/alpha:second");

        Assert.Equal("", save.Stdout);
        foreach (var tag in new[] { "v1", "second" })
        {
            var source = $"docker-archive:{archive}:docker.io/lab/alpha:{tag}";
            var config = await Skopeo.InspectConfigAsync(source);
            Assert.Equal(image.ImageId.Encoded, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config))));
            // skopeo 1.9's oci: reader finds only OCI manifests, so this copy converts instead of preserving digests.
            var layout = dir.Combine($"oci-{tag}");
            (await Skopeo.RunAsync(["--insecure-policy", "copy", source, $"oci:{layout}:{tag}"])).EnsureSuccess();
            using var copied = JsonDocument.Parse(await Skopeo.InspectConfigAsync($"oci:{layout}:{tag}"));
            Assert.Equal(image.Layers.Select(l => l.DiffId.ToString()),
                ImageVerbTests.Strings(copied.RootElement.GetProperty("rootfs").GetProperty("diff_ids")));
        }
        var missing = await Skopeo.RunAsync(["--insecure-policy", "inspect", $"docker-archive:{archive}:docker.io/lab/alpha:absent"]);
        Assert.NotEqual(0, missing.ExitCode);
    }

    [E2ETheory(Peers.Skopeo)]
    [InlineData("docker-archive")]
    [InlineData("oci-archive")]
    public async Task Skopeo_archive_loads_lists_and_unpacks_the_files(string transport)
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-skopeo-archive");
        var image = ImageFactory.Build(VerbImages.Alpha());
        OciLayout.Create(new LayoutRef("v1", image)).WriteDirectory(dir.Combine("layout"));
        var archive = dir.Combine("image.tar");
        var destination = transport == "docker-archive"
            ? $"docker-archive:{archive}:lab/from-skopeo:v1"
            : $"oci-archive:{archive}:lab/from-skopeo:v1";
        // docker-archive needs Docker schema 2, so skopeo converts (and may rewrite the config): the
        // expected ID is that of the config in the archive.
        (await Skopeo.RunAsync(["--insecure-policy", "copy", $"oci:{dir.Combine("layout")}:v1", destination])).EnsureSuccess();
        var config = await Skopeo.InspectConfigAsync($"{transport}:{archive}");
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config)));

        var load = await cli.RunOkAsync("load", "-i", archive);

        Assert.Contains("Loaded image: lab/from-skopeo:v1", load.Stdout, StringComparison.Ordinal);
        var rows = ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout).Skip(1).Select(ImageVerbTests.Row).ToList();
        var row = Assert.Single(rows);
        Assert.Equal(["lab/from-skopeo", "v1", ImageVerbTests.Short(id)], row.Take(3));
        var chains = VerbImages.ChainIds(image);
        var top = VerbImages.FindSnapshot(cli, chains[^1]);
        var bottom = VerbImages.FindSnapshot(cli, chains[0]);
        Assert.NotNull(top);
        Assert.NotNull(bottom);
        Assert.Equal("alpha\n", await File.ReadAllTextAsync(Path.Combine(top, "fs", "hello")));
        Assert.Equal("ID=hivelet-test\n", await File.ReadAllTextAsync(Path.Combine(bottom, "fs", "etc", "os-release")));
    }

    [Fact]
    public async Task Truncated_archive_fails_with_125_and_leaves_the_image_list_unchanged()
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-broken");
        await VerbImages.LoadAsync(cli, ImageFactory.Build(VerbImages.Alpha()), "lab/alpha:v1");
        var before = (await cli.RunOkAsync("images", "-q", "--no-trunc")).Stdout;
        var whole = dir.Combine("whole.tar");
        DockerArchive.Create(ImageFactory.Build(VerbImages.Beta()), ["lab/beta:v1"], DockerArchiveStyle.Legacy).WriteTar(whole);
        var bytes = await File.ReadAllBytesAsync(whole);
        var truncated = dir.Combine("truncated.tar");
        await File.WriteAllBytesAsync(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());

        var result = await cli.RunAsync("load", "-i", truncated);

        Assert.Equal(125, result.ExitCode);
        Assert.StartsWith("hivelet: ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, (await cli.RunOkAsync("images", "-q", "--no-trunc")).Stdout);
        AssertNoTempLeft(cli);
    }

    [Fact]
    public async Task Archive_missing_a_layer_fails_with_125_naming_it_and_loads_nothing()
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-broken");
        var image = ImageFactory.Build(VerbImages.Beta());
        var full = DockerArchive.Create(image, ["lab/beta:v1"], DockerArchiveStyle.Legacy);
        var layerPath = full.Paths.First(p => p.EndsWith("layer.tar", StringComparison.Ordinal));
        var broken = new ArchiveContent();
        foreach (var path in full.Paths.Where(p => p != layerPath))
        {
            if (full.Read(path) is { } content)
                broken.File(path, content);
        }
        var tar = dir.Combine("missing-layer.tar");
        broken.WriteTar(tar);

        var result = await cli.RunAsync("load", "-i", tar);

        Assert.Equal(125, result.ExitCode);
        Assert.Contains(layerPath, result.Stderr, StringComparison.Ordinal);
        Assert.Single(ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout));
        AssertNoTempLeft(cli);
    }

    [Fact]
    public async Task Save_into_a_missing_directory_fails_clearly_and_leaves_no_temp_file()
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-save-missing");
        await VerbImages.LoadAsync(cli, ImageFactory.Build(VerbImages.Alpha()), "lab/alpha:v1");
        var output = dir.Combine("no-such-dir", "out.tar");

        var result = await cli.RunAsync("save", "-o", output, "lab/alpha:v1");

        Assert.NotEqual(0, result.ExitCode);
        var error = Assert.Single(ImageVerbTests.Lines(result.Stderr));
        Assert.Contains(output, error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
        AssertNoTempLeft(cli);
    }

    [Fact]
    public async Task Save_of_an_unknown_image_fails_and_writes_no_file()
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-save-unknown");
        var output = dir.Combine("out.tar");

        var result = await cli.RunAsync("save", "-o", output, "lab/ghost:v1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("No such image", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Load_killed_midway_shows_no_image_and_the_next_load_completes_and_cleans_up()
    {
        using var cli = new HiveletCli();
        using var dir = new TempDirectory("hivelet-e2e-killed-load");
        // 4 MiB of layer, so half the archive is well inside a layer when the kill comes.
        var image = ImageFactory.Build(new ImageDefinition { Cmd = ["/big"] }
            .Layer(new LayerDefinition().File("big", RandomNumberGenerator.GetBytes(4 << 20))));
        var tar = dir.Combine("big.tar");
        DockerArchive.Create(image, ["lab/big:v1"], DockerArchiveStyle.Legacy).WriteTar(tar);
        var bytes = await File.ReadAllBytesAsync(tar);

        var psi = new ProcessStartInfo(cli.Binary)
        {
            ArgumentList = { "--root", cli.Root, "load" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in cli.Environment)
        {
            if (value is null)
                psi.Environment.Remove(key);
            else
                psi.Environment[key] = value;
        }
        using (var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start hivelet load"))
        {
            try
            {
                // Half the archive, then the pipe stays open: the load blocks waiting for the rest.
                await process.StandardInput.BaseStream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await process.StandardInput.BaseStream.FlushAsync();
                var waited = Stopwatch.StartNew();
                while (!HasPartialData(cli) && !process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(30))
                    await Task.Delay(50);
                Assert.False(process.HasExited, $"load exited early with {(process.HasExited ? process.ExitCode : 0)}");
                Assert.True(HasPartialData(cli), "load wrote nothing within 30s");
                process.Kill(); // SIGKILL: no cleanup code runs.
                await process.WaitForExitAsync();
            }
            finally
            {
                ProcessRunner.Kill(process);
            }
        }

        Assert.Empty(ImageVerbTests.Lines((await cli.RunOkAsync("images", "-q")).Stdout));
        var load = await cli.RunOkAsync("load", "-i", tar);
        Assert.Contains("Loaded image: lab/big:v1", load.Stdout, StringComparison.Ordinal);
        using var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", "lab/big:v1")).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
        await cli.RunOkAsync("image", "prune", "-a", "-f");
        AssertNoTempLeft(cli);
    }

    private static bool HasPartialData(HiveletCli cli) =>
        new[] { Path.Combine(cli.Root, "tmp"), Path.Combine(cli.Root, "content", "ingest") }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Any(f => new FileInfo(f).Length > 0);

    private static void AssertNoTempLeft(HiveletCli cli)
    {
        var tmp = Path.Combine(cli.Root, "tmp");
        if (Directory.Exists(tmp))
            Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
        var ingest = Path.Combine(cli.Root, "content", "ingest");
        if (Directory.Exists(ingest))
            Assert.Empty(Directory.EnumerateFileSystemEntries(ingest));
    }
}
