using System.Text;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;
using Hivelet.Interop;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// `hivelet pull` against the real registry: the layered image unpacked file by file with both
/// snapshot drivers, pull by digest, repeated pulls and the output format.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class PullTests(RegistryFixture fixture)
{
    [E2EFact(Peers.Registry)]
    public async Task Layered_image_pulled_with_the_copy_driver_has_every_file_as_the_layers_say()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: files owned by 1000:1000 and setuid bits need root to unpack");
            return;
        }
        var image = ImageFactory.Build(FixtureSets.Layered());
        var reference = await PullSupport.PushAsync(fixture.Registry, "pull/layered", "copy", image);
        using var cli = new HiveletCli();
        var config = PullSupport.WriteDriverConfig(cli, "copy");

        (await cli.RunAsync("--config", config, "pull", reference)).EnsureSuccess();

        // With the copy driver the top snapshot is the complete merged tree.
        LayeredTree.AssertMatches(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(image)[^1]));
        var inspect = await PullSupport.InspectAsync(cli, reference);
        Assert.Equal(3, inspect.GetProperty("RootFS").GetProperty("Layers").GetArrayLength());
    }

    [E2EFact(Peers.Registry)]
    public async Task Layered_image_pulled_with_the_overlay_driver_shows_every_file_through_a_mount()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: the overlay driver and the check mount need root");
            return;
        }
        var image = ImageFactory.Build(FixtureSets.Layered());
        var reference = await PullSupport.PushAsync(fixture.Registry, "pull/layered", "overlay", image);
        using var cli = new HiveletCli();
        var config = PullSupport.WriteDriverConfig(cli, "overlayfs");

        (await cli.RunAsync("--config", config, "pull", reference)).EnsureSuccess();

        var chain = PullSupport.ChainIds(image);
        // Lower dirs nearest first, as the kernel stacks them; whiteouts and opaque marks live in them.
        var lowers = chain.Reverse().Select(c => PullSupport.SnapshotFs(cli.Root, c)).ToList();
        Assert.All(lowers, l => Assert.True(Directory.Exists(l), $"snapshot {l} missing"));
        using var mountDir = new TempDirectory("hivelet-e2e-merged");
        Sys.Mount("overlay", mountDir.Path, "overlay", Sys.MS_RDONLY, "lowerdir=" + string.Join(':', lowers));
        try
        {
            LayeredTree.AssertMatches(mountDir.Path);
        }
        finally
        {
            Sys.Unmount(mountDir.Path, Sys.MNT_DETACH);
        }
    }

    [E2EFact(Peers.Registry, Peers.Skopeo, Peers.Umoci)]
    public async Task Gzip_only_layered_image_unpacks_to_the_same_tree_as_umoci()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: umoci keeps owners only as root");
            return;
        }
        // umoci 0.4 cannot read zstd layers: the same content with every layer gzip-compressed.
        var layered = FixtureSets.Layered();
        var def = new ImageDefinition { Cmd = layered.Cmd, User = layered.User, WorkingDir = layered.WorkingDir };
        foreach (var layer in layered.Layers)
        {
            var gzip = new LayerDefinition(LayerCompression.Gzip) { CreatedBy = layer.CreatedBy };
            foreach (var entry in layer.Entries)
                gzip.Add(entry);
            def.Layer(gzip);
        }
        var image = ImageFactory.Build(def);
        var reference = await PullSupport.PushAsync(fixture.Registry, "pull/layered-gzip", "v1", image);
        using var cli = new HiveletCli();
        var config = PullSupport.WriteDriverConfig(cli, "copy");
        (await cli.RunAsync("--config", config, "pull", reference)).EnsureSuccess();

        using var work = new TempDirectory("hivelet-e2e-umoci");
        await Skopeo.CopyAsync($"docker://{reference}", $"oci:{work.Combine("oci")}:v1", "--src-tls-verify=false");
        (await ProcessRunner.RunAsync(Peers.Require(Peers.Umoci),
            ["unpack", "--image", $"{work.Combine("oci")}:v1", work.Combine("bundle")], TimeSpan.FromMinutes(2))).EnsureSuccess();

        var ours = TreeListing.Of(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(image)[^1]));
        var theirs = TreeListing.Of(work.Combine("bundle", "rootfs"));
        Assert.Equal(theirs, ours);
    }

    [E2EFact(Peers.Registry)]
    public async Task Pull_by_digest_records_the_image_under_its_digest()
    {
        var image = ImageFactory.Build(TestImages.Small("by-digest"));
        var tagged = await PullSupport.PushAsync(fixture.Registry, "pull/by-digest", "v1", image);
        var byDigest = $"{fixture.Registry.Host}/pull/by-digest@{image.Manifest.Digest}";
        using var cli = new HiveletCli();

        var result = (await cli.RunAsync("pull", byDigest)).EnsureSuccess();

        Assert.Contains($"Digest: {image.Manifest.Digest}", result.Stdout, StringComparison.Ordinal);
        var inspect = await PullSupport.InspectAsync(cli, byDigest);
        Assert.Equal(image.ImageId.ToString(), PullSupport.StringOf(inspect, "Id"));
        var repoDigests = inspect.GetProperty("RepoDigests").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains($"{fixture.Registry.Host}/pull/by-digest@{image.Manifest.Digest}", repoDigests);
        // Nothing was pulled by tag, so the tag is not known locally.
        Assert.NotEqual(0, (await cli.RunAsync("image", "inspect", tagged)).ExitCode);
    }

    [E2EFact(Peers.Registry)]
    public async Task Second_pull_of_the_same_tag_says_the_image_is_up_to_date()
    {
        var image = ImageFactory.Build(TestImages.Small("twice"));
        var reference = await PullSupport.PushAsync(fixture.Registry, "pull/twice", "v1", image);
        using var cli = new HiveletCli();

        var first = (await cli.RunAsync("pull", reference)).EnsureSuccess();
        var second = (await cli.RunAsync("pull", reference)).EnsureSuccess();

        Assert.Contains("Status: Downloaded newer image for", first.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Status: Image is up to date for {fixture.Registry.Host}/pull/twice:v1", second.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Digest: {image.Manifest.Digest}", second.Stdout, StringComparison.Ordinal);
        var ids = (await cli.RunAsync("images", "-q")).EnsureSuccess();
        Assert.Equal([image.ImageId.Short], ids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [E2EFact(Peers.Registry)]
    public async Task Quiet_pull_prints_only_the_digest()
    {
        var image = ImageFactory.Build(TestImages.Small("quiet"));
        var reference = await PullSupport.PushAsync(fixture.Registry, "pull/quiet", "v1", image);
        using var cli = new HiveletCli();

        var result = (await cli.RunAsync("pull", "-q", reference)).EnsureSuccess();

        Assert.Equal(image.Manifest.Digest + "\n", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [E2EFact(Peers.Registry)]
    public async Task Pull_output_without_a_terminal_is_plain_lines_without_escape_codes()
    {
        var image = ImageFactory.Build(TestImages.Small("plain"));
        var reference = await PullSupport.PushAsync(fixture.Registry, "pull/plain", "v1", image);
        using var cli = new HiveletCli();

        var result = (await cli.RunAsync("pull", reference)).EnsureSuccess();

        Assert.DoesNotContain('\x1b', result.Stdout + result.Stderr);
        Assert.DoesNotContain('\r', result.Stdout);
        foreach (var layer in image.Layers)
            Assert.Contains($"{layer.Blob.Digest.Short}: Pull complete", result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith($"{fixture.Registry.Host}/pull/plain:v1\n", result.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>What FixtureSets.Layered() must look like once its three layers are applied.</summary>
internal static class LayeredTree
{
    private const uint Mode0644 = 0x1a4;
    private const uint Mode0755 = 0x1ed;
    private const uint Mode4755 = 0x9ed;

    public static void AssertMatches(string root)
    {
        string P(string rel) => Path.Combine(root, rel);

        File(P("etc/os-release"), "ID=hivelet-layered\n", Mode0644, 0, 0);
        Absent(P("etc/to-delete"));
        Symlink(P("etc/localtime"), "/usr/share/zoneinfo/UTC");

        var tool = File(P("usr/bin/tool"), "#!/bin/sh\necho tool\n", Mode0755, 0, 0);
        var toolLink = File(P("usr/bin/tool-link"), "#!/bin/sh\necho tool\n", Mode0755, 0, 0);
        Assert.Equal(tool.Inode, toolLink.Inode);
        Assert.Equal(2u, tool.LinkCount);
        File(P("usr/bin/su-like"), "setuid fixture\n", Mode4755, 0, 0);
        File(P("usr/share/doc/a.txt"), "a from layer 1\n", Mode0644, 0, 0);

        // Opaque in layer 1: only what layer 1 put there is left.
        Assert.Equal(["new"], Children(P("var/cache/app")));
        File(P("var/cache/app/new"), "new in layer 1\n", Mode0644, 0, 0);

        // Whited out with its contents in layer 2.
        Assert.Empty(Children(P("opt")));
        Absent(P("opt/gone"));

        Dir(P("home/user"), Mode0755, 1000, 1000);
        File(P("home/user/notes.txt"), "owned by 1000\n", Mode0644, 1000, 1000);
        var fifo = Sys.LStat(P("run/fifo"));
        Assert.Equal(FileStatus.S_IFIFO, fifo.Type);
        Assert.Equal(Mode0644, fifo.Permissions);

        Dir(P("data"), Mode0755, 1000, 1000);
        var one = File(P("data/one"), "1\n", Mode0644, 1000, 1000);
        var two = File(P("data/two"), "1\n", Mode0644, 1000, 1000);
        Assert.Equal(one.Inode, two.Inode);

        Assert.Equal(["data", "etc", "home", "opt", "run", "usr", "var"], Children(root));
        // No layer bookkeeping may show: whiteout files or overlay whiteout devices.
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(".wh.", Path.GetFileName(path), StringComparison.Ordinal);
            Assert.False(Sys.LStat(path).IsWhiteout, $"{path} is a whiteout device");
        }
    }

    private static FileStatus File(string path, string content, uint mode, uint uid, uint gid)
    {
        var st = Sys.LStat(path);
        Assert.True(st.IsRegularFile, $"{path}: not a regular file (mode {st.Mode:x})");
        Assert.Equal((path, mode), (path, st.Permissions));
        Assert.Equal((path, uid, gid), (path, st.Uid, st.Gid));
        Assert.Equal(content, Encoding.UTF8.GetString(System.IO.File.ReadAllBytes(path)));
        return st;
    }

    private static void Dir(string path, uint mode, uint uid, uint gid)
    {
        var st = Sys.LStat(path);
        Assert.True(st.IsDirectory, $"{path}: not a directory");
        Assert.Equal((path, mode), (path, st.Permissions));
        Assert.Equal((path, uid, gid), (path, st.Uid, st.Gid));
    }

    private static void Symlink(string path, string target)
    {
        Assert.True(Sys.LStat(path).IsSymlink, $"{path}: not a symlink");
        Assert.Equal(target, Sys.ReadLink(path));
    }

    private static void Absent(string path) =>
        Assert.False(System.IO.File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null,
            $"{path} should not exist");

    private static string[] Children(string dir) =>
        [.. Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).Cast<string>()];
}

/// <summary>A comparable description of a tree: type, mode, owner, content or target, hard-link group.</summary>
internal static class TreeListing
{
    public static List<string> Of(string root)
    {
        var lines = new List<string>();
        var firstPathOfInode = new Dictionary<ulong, string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(root, path);
            var st = Sys.LStat(path);
            var what = st.Type switch
            {
                FileStatus.S_IFREG => "file " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.IO.File.ReadAllBytes(path))),
                FileStatus.S_IFLNK => "symlink -> " + Sys.ReadLink(path),
                FileStatus.S_IFDIR => "dir",
                FileStatus.S_IFIFO => "fifo",
                _ => $"type {st.Type:x}",
            };
            if (st.IsRegularFile && st.LinkCount > 1 && !firstPathOfInode.TryAdd(st.Inode, rel))
                what += " hardlink of " + firstPathOfInode[st.Inode];
            var mode = st.IsSymlink ? "" : $" mode {Convert.ToString(st.Permissions, 8)}";
            lines.Add($"{rel}: {what}{mode} owner {st.Uid}:{st.Gid}");
        }
        return lines;
    }
}
