using System.Diagnostics;
using System.Text.Json;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Archives;

/// <summary>Archives exchanged with the real peer, skopeo (Debian's 1.9.3), on local files only.</summary>
public class SkopeoInteropTests
{
    private const string Skopeo = "/usr/bin/skopeo";

    [Fact]
    public void OurSave_IsReadBySkopeoDockerArchive()
    {
        if (!SkopeoPresent())
            return;
        using var store = new StoreFixture();
        var gz = TestImage.Create("for skopeo, gzip", gzip: true);
        var plain = TestImage.Create("for skopeo, plain");
        store.Load(ArchiveBuilder.Docker25((gz, ["docker.io/lab/sk:1"]), (plain, ["docker.io/lab/plain:2"])));
        var file = store.Scratch("saved.tar");
        store.Saver().SaveToFile(["lab/sk:1", "lab/plain:2"], file, CancellationToken.None);

        var inspect = Run("inspect", $"docker-archive:{file}:lab/sk:1");
        using (var doc = JsonDocument.Parse(inspect))
        {
            var layers = doc.RootElement.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()).ToList();
            Assert.Equal([gz.DiffId.ToString()], layers);
            Assert.Equal("amd64", doc.RootElement.GetProperty("Architecture").GetString());
        }
        using (var doc = JsonDocument.Parse(Run("inspect", $"docker-archive:{file}:lab/plain:2")))
            Assert.Equal(plain.DiffId.ToString(), doc.RootElement.GetProperty("Layers")[0].GetString());

        var layout = store.Scratch("copied");
        Run("copy", "-q", $"docker-archive:{file}:lab/sk:1", $"oci:{layout}:copied");
        Assert.Contains("\"copied\"", File.ReadAllText(Path.Combine(layout, "index.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void SkopeoDockerArchive_Loads()
    {
        if (!SkopeoPresent())
            return;
        using var store = new StoreFixture();
        var image = TestImage.Create("from skopeo docker-archive", gzip: true);
        var layout = WriteSourceLayout(store, image);
        var file = store.Scratch("skopeo-docker.tar");

        Run("copy", "-q", $"oci:{layout}:src", $"docker-archive:{file}:lab/app:1");
        using (var stream = File.OpenRead(file))
            store.Loader().Load(stream, file, CancellationToken.None);

        AssertLoaded(store, "docker.io/lab/app:1", image);
    }

    [Fact]
    public void SkopeoOciArchive_Loads()
    {
        if (!SkopeoPresent())
            return;
        using var store = new StoreFixture();
        var image = TestImage.Create("from skopeo oci-archive", gzip: true);
        var layout = WriteSourceLayout(store, image);
        var file = store.Scratch("skopeo-oci.tar");

        Run("copy", "-q", $"oci:{layout}:src", $"oci-archive:{file}:lab/app:2");
        using (var stream = File.OpenRead(file))
            store.Loader().Load(stream, file, CancellationToken.None);

        AssertLoaded(store, "docker.io/lab/app:2", image);
        // skopeo keeps the manifest as it was, so the digest survives.
        Assert.Equal(image.ManifestDigest, store.Images.Get("docker.io/lab/app:2")!.ManifestDigest);
    }

    private static void AssertLoaded(StoreFixture store, string name, TestImage image)
    {
        var record = store.Images.Get(name);
        Assert.NotNull(record);
        var stored = StoredImage.Load(record, store.Content);
        Assert.Equal([image.DiffId], ManifestParser.DiffIds(stored.Config));
        Assert.Equal("linux/amd64", record.Platform!.ToString());
    }

    /// <summary>A single-image OCI layout directory tagged "src", built in code.</summary>
    private static string WriteSourceLayout(StoreFixture store, TestImage image)
    {
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            Manifests = [image.ManifestDescriptor(new() { ["org.opencontainers.image.ref.name"] = "src" })],
        };
        var files = new Dictionary<string, byte[]>
        {
            ["oci-layout"] = "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray(),
            ["index.json"] = JsonSerializer.SerializeToUtf8Bytes(index, OciJsonContext.Default.ImageIndex),
            [$"blobs/sha256/{image.LayerDigest.Encoded}"] = image.LayerBlob,
            [$"blobs/sha256/{image.ConfigDigest.Encoded}"] = image.Config,
            [$"blobs/sha256/{image.ManifestDigest.Encoded}"] = image.Manifest,
        };
        var dir = store.Scratch("source-layout");
        ArchiveBuilder.WriteTree(files, dir);
        return dir;
    }

    private static bool SkopeoPresent()
    {
        if (File.Exists(Skopeo))
            return true;
        Console.WriteLine($"skipped: {Skopeo} is not installed");
        return false;
    }

    /// <summary>Runs skopeo (bounded to a minute) and returns its stdout; fails the test on a non-zero exit.</summary>
    private static string Run(params string[] args)
    {
        var start = new ProcessStartInfo(Skopeo)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Keep skopeo off any registry configuration or policy of the machine beyond the default.
        start.ArgumentList.Add("--insecure-policy");
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"skopeo {string.Join(' ', args)}: timed out");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"skopeo {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
