using System.Text.Json;
using Hivelet.Fixtures;
using Hivelet.Images.Oci;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>What pull tests share: pushing built images, reading `image inspect`, finding unpacked trees.</summary>
public static class PullSupport
{
    /// <summary>Pushes <paramref name="root"/> byte-for-byte as REPO:TAG; returns "HOST/REPO:TAG".</summary>
    public static async Task<string> PushAsync(RegistryServer registry, string repo, string tag, IBuiltRoot root)
    {
        using var client = registry.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(3);
        await RegistryPusher.PushAsync(client, repo, tag, root);
        return $"{registry.Host}/{repo}:{tag}";
    }

    /// <summary>The single object `hivelet image inspect REF` prints.</summary>
    public static async Task<JsonElement> InspectAsync(HiveletCli cli, string reference)
    {
        var result = (await cli.RunAsync("image", "inspect", reference)).EnsureSuccess();
        using var doc = JsonDocument.Parse(result.Stdout);
        return Assert.Single(doc.RootElement.EnumerateArray()).Clone();
    }

    public static string? StringOf(JsonElement obj, string property) =>
        obj.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>&lt;root&gt;/snapshots/sha256-&lt;hex&gt;/fs of the committed layer with <paramref name="chainId"/>.</summary>
    public static string SnapshotFs(string root, Digest chainId) =>
        Path.Combine(root, "snapshots", $"{chainId.Algorithm}-{chainId.Encoded}", "fs");

    public static IReadOnlyList<Digest> ChainIds(BuiltImage image) => ChainId.Compute(image.Layers.Select(l => l.DiffId).ToList());

    /// <summary>Writes a --config file choosing the snapshot driver; returns its path.</summary>
    public static string WriteDriverConfig(HiveletCli cli, string driver)
    {
        var path = Path.Combine(cli.Home, $"config-{driver}.json");
        File.WriteAllText(path, $"{{\"storage-driver\": \"{driver}\"}}\n");
        return path;
    }

    /// <summary>The static busybox for a Debian architecture (amd64, arm64, armhf) that build.sh fetches.</summary>
    public static byte[] Busybox(string debianArch)
    {
        var env = $"HIVELET_BUSYBOX_{debianArch.ToUpperInvariant()}";
        var path = Environment.GetEnvironmentVariable(env) is { Length: > 0 } p
            ? p
            : Path.Combine(RepoPaths.RepoRoot, "artifacts", "peers", $"busybox-{debianArch}", "bin", "busybox");
        Assert.True(File.Exists(path), $"{path} is missing: run ./build.sh fixtures busybox-multi (or set {env})");
        return File.ReadAllBytes(path);
    }

    /// <summary>e_machine of an ELF file: 62 x86-64, 183 AArch64, 40 ARM.</summary>
    public static int ElfMachine(string path)
    {
        var header = new byte[20];
        using (var f = File.OpenRead(path))
            f.ReadExactly(header);
        Assert.True(header[0] == 0x7f && header[1] == (byte)'E' && header[2] == (byte)'L' && header[3] == (byte)'F',
            $"{path} is not an ELF file");
        return header[18] | (header[19] << 8);
    }

    /// <summary>Error lines on stderr; asserts there is exactly one, without a stack trace.</summary>
    public static string SingleErrorLine(ProcessResult result)
    {
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{result}");
        Assert.StartsWith("hivelet: ", lines[0], StringComparison.Ordinal);
        return lines[0];
    }
}
