using Hivelet.Errors;
using Hivelet.Interop;
using Hivelet.Runtime.Copy;

namespace Hivelet.Runtime.Tests.Copy;

public class CopyRulesTests
{
    [Theory]
    [InlineData("web:/etc/hosts", "web", "/etc/hosts")]
    [InlineData("web:relative", "web", "relative")]
    [InlineData("/tmp/a:b", null, "/tmp/a:b")]
    [InlineData("./a:b", null, "./a:b")]
    [InlineData("dir/a:b", null, "dir/a:b")]
    [InlineData("-", null, "-")]
    [InlineData("file", null, "file")]
    public void Endpoints_as_docker_splits_them(string arg, string? container, string path) =>
        Assert.Equal(new CopyEndpoint(container, path), CopyEndpoint.Parse(arg));

    [Theory]
    // file -> missing: saved under the new name; -> file: overwritten; -> dir: copied into it.
    [InlineData("/a/f", false, "/d/new", DestinationKind.Missing, "/d", "new")]
    [InlineData("/a/f", false, "/d/old", DestinationKind.File, "/d", "old")]
    [InlineData("/a/f", false, "/d", DestinationKind.Directory, "/d", "f")]
    // dir -> missing: created with the source's contents; -> dir: copied into it, or its contents with "/.".
    [InlineData("/a/src", true, "/d/new", DestinationKind.Missing, "/d", "new")]
    [InlineData("/a/src", true, "/d/new/", DestinationKind.Missing, "/d", "new")]
    [InlineData("/a/src", true, "/d", DestinationKind.Directory, "/d", "src")]
    [InlineData("/a/src/", true, "/d", DestinationKind.Directory, "/d", "src")]
    [InlineData("/a/src/.", true, "/d", DestinationKind.Directory, "/d", "")]
    [InlineData("/", true, "/d", DestinationKind.Directory, "/d", "")]
    [InlineData("f", false, "new", DestinationKind.Missing, ".", "new")]
    public void Docker_cp_path_rules(string src, bool srcDir, string dst, DestinationKind kind, string dir, string rootName) =>
        Assert.Equal(new CopyPlan(dir, rootName), CopyRules.Decide(src, srcDir, dst, kind));

    [Theory]
    [InlineData("/a/src", true, "/d/file", DestinationKind.File, "cannot copy a directory to a file")]
    [InlineData("/a/f", false, "/d/missing/", DestinationKind.Missing, "the destination directory must exist")]
    [InlineData("/a/f/", false, "/d", DestinationKind.Directory, "not a directory")]
    [InlineData("/a/f/.", false, "/d", DestinationKind.Directory, "not a directory")]
    public void Docker_cp_errors(string src, bool srcDir, string dst, DestinationKind kind, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => CopyRules.Decide(src, srcDir, dst, kind));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}

/// <summary>A fake container root and a host directory in temp dirs; removed on dispose.</summary>
internal sealed class CopyDirs : IDisposable
{
    public CopyDirs()
    {
        Root = Directory.CreateTempSubdirectory("hivelet-cp-root-").FullName;
        Host = Directory.CreateTempSubdirectory("hivelet-cp-host-").FullName;
    }

    public string Root { get; }
    public string Host { get; }

    public void Dispose()
    {
        Directory.Delete(Root, recursive: true);
        Directory.Delete(Host, recursive: true);
    }
}

public class ContainerCopierTests
{
    [Fact]
    public void A_symlink_to_slash_inside_the_root_does_not_escape()
    {
        using var d = new CopyDirs();
        Directory.CreateDirectory(Path.Combine(d.Root, "etc"));
        File.WriteAllText(Path.Combine(d.Root, "etc", "secret"), "inside");
        File.CreateSymbolicLink(Path.Combine(d.Root, "escape"), "/");
        File.CreateSymbolicLink(Path.Combine(d.Root, "up"), "../../../../..");
        using var root = Sys.OpenDirectory(d.Root);
        foreach (var path in new[] { "/escape/etc/secret", "up/etc/secret", "/../../etc/secret" })
        {
            var (parent, name, st) = RootedPath.Resolve(root, path, followFinal: true);
            using (parent)
            {
                Assert.Equal("secret", name);
                Assert.True(st.IsRegularFile);
                Assert.Equal((ulong)6, st.Size); // "inside", not the host's /etc/secret (which does not exist)
            }
        }
        // Copying the link itself out keeps it a link; with -L the target is resolved in the container.
        var copier = new ContainerCopier();
        var outDir = Path.Combine(d.Host, "out");
        copier.CopyOut(d.Root, "/escape/etc", outDir, archive: false, followLink: false);
        Assert.Equal("inside", File.ReadAllText(Path.Combine(outDir, "secret")));
        copier.CopyOut(d.Root, "/escape", Path.Combine(d.Host, "link"), archive: false, followLink: false);
        Assert.Equal("/", new FileInfo(Path.Combine(d.Host, "link")).LinkTarget);
    }

    [Fact]
    public void Copy_in_through_a_symlinked_destination_stays_inside()
    {
        using var d = new CopyDirs();
        File.CreateSymbolicLink(Path.Combine(d.Root, "tmp"), "/");
        var victim = Path.Combine(d.Host, "victim");
        File.WriteAllText(Path.Combine(d.Host, "f"), "payload");
        // In the container "/tmp/victim" is "/victim" (its /tmp is a link to its own root).
        new ContainerCopier().CopyIn(d.Root, Path.Combine(d.Host, "f"), "/tmp/tmp/victim", archive: false, followLink: false);
        Assert.False(File.Exists("/victim"));
        Assert.Equal("payload", File.ReadAllText(Path.Combine(d.Root, "victim")));
        // A destination whose parent is missing in the container is an error, even if the host has it.
        Assert.ThrowsAny<HiveletException>(() => new ContainerCopier().CopyIn(d.Root, Path.Combine(d.Host, "f"),
            "/tmp" + victim, archive: false, followLink: false));
        Assert.False(File.Exists(victim));
    }

    [Fact]
    public void Files_directories_and_contents_round_trip_with_modes()
    {
        using var d = new CopyDirs();
        var src = Path.Combine(d.Host, "src");
        Directory.CreateDirectory(Path.Combine(src, "sub"));
        File.WriteAllText(Path.Combine(src, "a.txt"), "A");
        File.WriteAllText(Path.Combine(src, "sub", "b.sh"), "B");
        Sys.Chmod(Path.Combine(src, "sub", "b.sh"), Convert.ToUInt32("750", 8));
        File.CreateSymbolicLink(Path.Combine(src, "link"), "a.txt");
        Sys.Link(Path.Combine(src, "a.txt"), Path.Combine(src, "hard"));
        var copier = new ContainerCopier();

        copier.CopyIn(d.Root, src, "/opt", archive: false, followLink: false);            // dir -> missing
        Assert.Equal("B", File.ReadAllText(Path.Combine(d.Root, "opt", "sub", "b.sh")));
        Assert.Equal(Convert.ToUInt32("750", 8), Sys.LStat(Path.Combine(d.Root, "opt", "sub", "b.sh")).Permissions);
        Assert.Equal("a.txt", new FileInfo(Path.Combine(d.Root, "opt", "link")).LinkTarget);
        Assert.Equal(Sys.LStat(Path.Combine(d.Root, "opt", "a.txt")).Inode, Sys.LStat(Path.Combine(d.Root, "opt", "hard")).Inode);

        copier.CopyIn(d.Root, src, "/opt", archive: false, followLink: false);            // dir -> dir: nested
        Assert.True(File.Exists(Path.Combine(d.Root, "opt", "src", "a.txt")));
        copier.CopyIn(d.Root, src + "/.", "/contents", archive: false, followLink: false); // missing, "/." contents
        Directory.CreateDirectory(Path.Combine(d.Root, "contents2"));
        copier.CopyIn(d.Root, src + "/.", "/contents2", archive: false, followLink: false);
        Assert.True(File.Exists(Path.Combine(d.Root, "contents2", "a.txt")));

        copier.CopyOut(d.Root, "/opt/a.txt", Path.Combine(d.Host, "copy.txt"), archive: false, followLink: false);
        Assert.Equal("A", File.ReadAllText(Path.Combine(d.Host, "copy.txt")));
        copier.CopyOut(d.Root, "/opt/link", Path.Combine(d.Host, "deref.txt"), archive: false, followLink: true);
        Assert.Equal("A", File.ReadAllText(Path.Combine(d.Host, "deref.txt")));
        Assert.Null(new FileInfo(Path.Combine(d.Host, "deref.txt")).LinkTarget);

        Assert.Throws<NotFoundException>(() => copier.CopyOut(d.Root, "/nope", d.Host, archive: false, followLink: false));
    }

    [Fact]
    public void Tar_streams_out_and_in()
    {
        using var d = new CopyDirs();
        Directory.CreateDirectory(Path.Combine(d.Root, "data"));
        File.WriteAllText(Path.Combine(d.Root, "data", "x"), "X");
        var copier = new ContainerCopier();
        using var tar = new MemoryStream();
        copier.WriteArchive(d.Root, "/data", tar, followLink: false);
        tar.Position = 0;
        Directory.CreateDirectory(Path.Combine(d.Root, "restore"));
        copier.ExtractArchive(d.Root, tar, "/restore");
        Assert.Equal("X", File.ReadAllText(Path.Combine(d.Root, "restore", "data", "x")));
        tar.Position = 0;
        Assert.Throws<InvalidInputException>(() => copier.ExtractArchive(d.Root, tar, "/data/x"));
    }
}
