using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.Snapshots;
using Hivelet.Interop;
using Xunit.Abstractions;

namespace Hivelet.Images.Tests.Snapshots;

/// <summary>Behaviour both drivers must share; each driver runs these through a subclass.</summary>
public abstract class SnapshotterTests : IDisposable
{
    private readonly ITestOutputHelper _output;

    protected SnapshotterTests(ITestOutputHelper output)
    {
        _output = output;
        Root = new SnapshotTestRoot();
        SnapshotsDir = Path.Combine(Root.Path, "snapshots");
    }

    protected SnapshotTestRoot Root { get; }
    protected string SnapshotsDir { get; }

    protected abstract ISnapshotter Create();

    /// <summary>Whether this driver's tests can run here; otherwise they log why and pass.</summary>
    protected abstract bool CanRun { get; }

    protected bool Skip()
    {
        if (CanRun)
            return false;
        _output.WriteLine("skipped: this driver test needs root (CAP_SYS_ADMIN); CI runs it as root");
        return true;
    }

    protected static Digest Id(string name) => Digest.ComputeSha256(Encoding.UTF8.GetBytes(name));

    protected string CommittedFs(Digest id) => Path.Combine(SnapshotsDir, $"{id.Algorithm}-{id.Encoded}", "fs");

    protected static void Write(string dir, string relative, string content)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>Commits a layer made by <paramref name="apply"/> on top of <paramref name="parent"/>.</summary>
    protected static Digest Layer(ISnapshotter s, Digest? parent, string name, Action<string> apply)
    {
        var id = Id(name);
        using var active = s.Prepare(parent);
        apply(active.Path);
        active.Commit(id);
        return id;
    }

    private void AssertClean()
    {
        Assert.Empty(Root.MountsEverywhere());
        var tmp = Path.Combine(SnapshotsDir, "tmp");
        if (Directory.Exists(tmp))
            Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
    }

    [Fact]
    public void BaseLayerIsCommittedAtomicallyUnderItsChainId()
    {
        if (Skip())
            return;
        var s = Create();
        var id = Layer(s, null, "base", p => Write(p, "etc/hostname", "base"));
        Assert.True(s.Exists(id));
        Assert.Contains(id, s.List());
        Assert.Equal("base", File.ReadAllText(Path.Combine(CommittedFs(id), "etc/hostname")));
        Assert.False(s.Exists(Id("other")));
        AssertClean();
    }

    [Fact]
    public void ChildSeesParentAndDeletionsHideFilesFromGrandchildren()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "l1", p =>
        {
            Write(p, "keep.txt", "keep");
            Write(p, "gone.txt", "gone");
        });
        var l2 = Layer(s, l1, "l2", p =>
        {
            Assert.Equal("keep", File.ReadAllText(Path.Combine(p, "keep.txt")));
            Assert.True(File.Exists(Path.Combine(p, "gone.txt")));
            File.Delete(Path.Combine(p, "gone.txt"));
            Write(p, "new.txt", "new");
        });
        using var view = s.Prepare(l2);
        Assert.False(File.Exists(Path.Combine(view.Path, "gone.txt")));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(view.Path, "keep.txt")));
        Assert.Equal("new", File.ReadAllText(Path.Combine(view.Path, "new.txt")));
        view.Dispose();
        AssertClean();
    }

    [Fact]
    public void LayerCanHardLinkAndChangeOwnershipOfParentFiles()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "hl1", p => Write(p, "bin/busybox", "bb"));
        var l2 = Layer(s, l1, "hl2", p =>
        {
            Sys.Link(Path.Combine(p, "bin/busybox"), Path.Combine(p, "bin/sh"));
            Sys.Chmod(Path.Combine(p, "bin/busybox"), 0x9ed); // 04755
        });
        using var view = s.Prepare(l2);
        var bb = Sys.LStat(Path.Combine(view.Path, "bin/busybox"));
        Assert.Equal(0x9edu, bb.Permissions);
        Assert.Equal(bb.Inode, Sys.LStat(Path.Combine(view.Path, "bin/sh")).Inode);
        Assert.Equal("bb", File.ReadAllText(Path.Combine(view.Path, "bin/sh")));
    }

    [Fact]
    public void RecreatedDirectoryHidesEverythingBelowIt()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "o1", p =>
        {
            Write(p, "dir/a", "a");
            Write(p, "dir/sub/b", "b");
        });
        var l2 = Layer(s, l1, "o2", p =>
        {
            Directory.Delete(Path.Combine(p, "dir"), recursive: true);
            Write(p, "dir/new", "new");
        });
        using var view = s.Prepare(l2);
        var names = Directory.EnumerateFileSystemEntries(Path.Combine(view.Path, "dir")).Select(Path.GetFileName).ToList();
        Assert.Equal(["new"], names);
    }

    [Fact]
    public void ContainerSeesTheStackAndWritesOnlyToItsOwnLayer()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "c1", p => Write(p, "bin/sh", "shell"));
        var l2 = Layer(s, l1, "c2", p => Write(p, "app/run", "app"));
        using (var c = s.PrepareContainer("web-1", l2))
        {
            Assert.Equal("shell", File.ReadAllText(Path.Combine(c.Path, "bin/sh")));
            Assert.Equal("app", File.ReadAllText(Path.Combine(c.Path, "app/run")));
            Write(c.Path, "app/run", "changed");
            Write(c.Path, "var/log", "log");
            Assert.Throws<InvalidOperationException>(() => c.Commit(Id("nope")));
        }
        Assert.Equal("app", File.ReadAllText(Path.Combine(CommittedFs(l2), "app/run")));
        Assert.False(File.Exists(Path.Combine(CommittedFs(l2), "var/log")));
        Assert.False(File.Exists(Path.Combine(CommittedFs(l1), "var/log")));

        // The container file system outlives its handle and is found again by id.
        using (var again = s.PrepareContainer("web-1", l2))
            Assert.Equal("changed", File.ReadAllText(Path.Combine(again.Path, "app/run")));
        Assert.Throws<SnapshotInUseException>(() => s.Remove(l2));
        Assert.Throws<InvalidInputException>(() => s.PrepareContainer("web-1", l1));
        Assert.Throws<InvalidInputException>(() => s.PrepareContainer("../escape", l1));

        Assert.True(s.RemoveContainer("web-1"));
        Assert.False(s.RemoveContainer("web-1"));
        Assert.False(Directory.Exists(Path.Combine(SnapshotsDir, "containers", "web-1")));
        AssertClean();
    }

    [Fact]
    public void DisposeWithoutCommitLeavesNothing()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "d1", p => Write(p, "a", "a"));
        var before = s.List().ToList();
        using (var active = s.Prepare(l1))
            Write(active.Path, "half-done", "x");
        using (var active = s.Prepare(null))
            Write(active.Path, "half-done", "x");
        Assert.Equal(before, s.List().ToList());
        AssertClean();
    }

    [Fact]
    public void SecondCommitOfTheSameChainIdIsDiscarded()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "r1", p => Write(p, "a", "a"));
        using var first = s.Prepare(l1);
        using var second = s.Prepare(l1);
        Write(first.Path, "who", "first");
        Write(second.Path, "who", "second");
        first.Commit(Id("r2"));
        second.Commit(Id("r2"));
        using var view = s.Prepare(Id("r2"));
        Assert.Equal("first", File.ReadAllText(Path.Combine(view.Path, "who")));
        view.Dispose();
        AssertClean();
    }

    [Fact]
    public void RemoveRefusesParentsAndRemovesChildrenFirst()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "g1", p => Write(p, "a", "a"));
        var l2 = Layer(s, l1, "g2", p => Write(p, "b", "b"));
        Assert.Throws<SnapshotInUseException>(() => s.Remove(l1));
        // An overlay unpack mounts its parent chain; the copy driver is done with the parent after Prepare.
        if (s.Driver == OverlaySnapshotter.DriverName)
        {
            using (s.Prepare(l2))
                Assert.Throws<SnapshotInUseException>(() => s.Remove(l2));
        }
        Assert.True(s.Remove(l2));
        Assert.True(s.Remove(l1));
        Assert.False(s.Remove(l1));
        Assert.Empty(s.List());
        Assert.Throws<NotFoundException>(() => s.Prepare(l1));
        AssertClean();
    }

    [Fact]
    public void RepairRemovesWhatAKilledUnpackLeft()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "k1", p => Write(p, "a", "a"));
        // A dead process's unpack (pid beyond pid_max), with a host mount still on its merged dir.
        var leftover = Path.Combine(SnapshotsDir, "tmp", "999999999-layer-0123456789ab");
        Directory.CreateDirectory(Path.Combine(leftover, "fs"));
        Directory.CreateDirectory(Path.Combine(leftover, "merged"));
        Write(leftover, "fs/partial", "x");
        bool mounted = Environment.IsPrivilegedProcess;
        if (mounted)
            Sys.Mount(Path.Combine(leftover, "fs"), Path.Combine(leftover, "merged"), null, Sys.MS_BIND, null);
        // A container whose creation was killed before meta.json.
        Directory.CreateDirectory(Path.Combine(SnapshotsDir, "containers", "half", "fs"));

        s.Repair();

        Assert.False(Directory.Exists(leftover));
        Assert.False(Directory.Exists(Path.Combine(SnapshotsDir, "containers", "half")));
        Assert.True(s.Exists(l1));
        AssertClean();
        // Survives a second run and a fresh instance.
        Create().Repair();
        Assert.True(s.Exists(l1));
    }

    [Fact]
    public void RepairKeepsUnpacksInProgress()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "a1", p => Write(p, "a", "a"));
        using var active = s.Prepare(l1);
        Write(active.Path, "b", "b");
        s.Repair();
        Assert.Equal("b", File.ReadAllText(Path.Combine(active.Path, "b")));
        active.Commit(Id("a2"));
        Assert.True(s.Exists(Id("a2")));
        active.Dispose();
        AssertClean();
    }

    [Fact]
    public void DeepChainOf150LayersStacks()
    {
        if (Skip())
            return;
        var s = Create();
        Digest? parent = null;
        for (int i = 0; i < 150; i++)
        {
            int n = i;
            parent = Layer(s, parent, $"deep-{i}", p => Write(p, $"f{n:D3}", n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        using var view = s.Prepare(parent);
        Assert.Equal(150, Directory.EnumerateFiles(view.Path).Count());
        Assert.Equal("0", File.ReadAllText(Path.Combine(view.Path, "f000")));
        Assert.Equal("149", File.ReadAllText(Path.Combine(view.Path, "f149")));
        view.Dispose();
        AssertClean();
    }

    public void Dispose()
    {
        Root.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class OverlaySnapshotterTests(ITestOutputHelper output) : SnapshotterTests(output)
{
    protected override bool CanRun => Environment.IsPrivilegedProcess;

    protected override ISnapshotter Create() => new OverlaySnapshotter(SnapshotsDir);

    [Fact]
    public void DeletionsAreRecordedAsOverlayWhiteoutsAndOpaqueDirectories()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "w1", p =>
        {
            Write(p, "file", "f");
            Write(p, "dir/old", "o");
        });
        var l2 = Layer(s, l1, "w2", p =>
        {
            File.Delete(Path.Combine(p, "file"));
            Directory.Delete(Path.Combine(p, "dir"), recursive: true);
            Write(p, "dir/new", "n");
        });
        var upper = CommittedFs(l2);
        Assert.True(Sys.LStat(Path.Combine(upper, "file")).IsWhiteout);
        Assert.Equal("y"u8.ToArray(), Sys.LGetXattr(Path.Combine(upper, "dir"), "trusted.overlay.opaque"));
        Assert.False(Directory.Exists(Path.Combine(upper, "work")));
    }

    [Fact]
    public void UnpackMountIsPrivateToItsWorkerAndReachableFromAnyThread()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "p1", p => Write(p, "a", "a"));
        using var active = s.Prepare(l1);
        Assert.StartsWith("/proc/", active.Path, StringComparison.Ordinal);
        // Not in the host's mount table: a kill -9 cannot leave it behind.
        Assert.Empty(MountTable.MountPointsUnder(SnapshotsDir));
        Assert.NotEmpty(Root.MountsEverywhere());
        string? fromOtherThread = null;
        var reader = new Thread(() => fromOtherThread = File.ReadAllText(Path.Combine(active.Path, "a")));
        reader.Start();
        reader.Join();
        Assert.Equal("a", fromOtherThread);
        active.Dispose();
        Assert.Empty(Root.MountsEverywhere());
    }

    [Fact]
    public void ContainerMountIsAHostMount()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "h1", p => Write(p, "a", "a"));
        using var c = s.PrepareContainer("c1", l1);
        Assert.True(MountTable.IsMountPoint(c.Path));
        // After a reboot (simulated by unmounting) PrepareContainer mounts it again.
        Sys.Unmount(c.Path, 0);
        using var again = s.PrepareContainer("c1", l1);
        Assert.Equal("a", File.ReadAllText(Path.Combine(again.Path, "a")));
        Assert.True(s.RemoveContainer("c1"));
        Assert.Empty(Root.MountsEverywhere());
    }

    [Fact]
    public void ADisposableContainerLayerIsMountedVolatileAndDescribedForReplay()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "v1", p => Write(p, "a", "a"));
        using (var kept = s.PrepareContainer("kept", l1))
            Assert.DoesNotContain("volatile", MountLine(kept.Path), StringComparison.Ordinal);
        using var c = s.PrepareContainer("gone", l1, disposable: true);
        Assert.Contains("volatile", MountLine(c.Path), StringComparison.Ordinal);

        var replay = s.DescribeContainer("gone")!;
        var dir = Path.Combine(SnapshotsDir, "containers", "gone");
        Assert.Equal(dir, replay.Directory);
        Assert.Equal([dir, dir + "/fs", dir + "/work", dir + "/merged"], replay.Directories.Select(d => d.Path));
        Assert.Equal(c.Path, replay.MountTarget);
        Assert.Equal(SnapshotsDir, replay.MountWorkingDirectory);
        Assert.StartsWith("lowerdir=l/", replay.MountOptions, StringComparison.Ordinal);
        Assert.Contains(",upperdir=containers/gone/fs,workdir=containers/gone/work", replay.MountOptions, StringComparison.Ordinal);
        Assert.EndsWith(",volatile", replay.MountOptions, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "meta.json")), replay.Meta);
        Assert.All(replay.Needs, n => Assert.True(Directory.Exists(n), n));
        Assert.DoesNotContain("volatile", s.DescribeContainer("kept")!.MountOptions, StringComparison.Ordinal);
        Assert.True(s.RemoveContainer("gone"));
        Assert.True(s.RemoveContainer("kept"));
    }

    private static string MountLine(string mountPoint) =>
        File.ReadLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == mountPoint);

    [Fact]
    public void ALostShortLinkIsRecreated()
    {
        if (Skip())
            return;
        var s = Create();
        var l1 = Layer(s, null, "s1", p => Write(p, "a", "a"));
        foreach (var link in Directory.EnumerateFileSystemEntries(Path.Combine(SnapshotsDir, "l")))
            File.Delete(link);
        using var view = s.Prepare(l1);
        Assert.Equal("a", File.ReadAllText(Path.Combine(view.Path, "a")));
    }

    [Fact]
    public void ChainsBeyondTheMaximumFailClearly()
    {
        var lowers = Enumerable.Range(0, OverlayMount.MaxDepth).Select(_ => "l/abcdefgh").ToList();
        var longest = OverlayMount.Options(lowers, "containers/" + new string('x', 128) + "/fs",
            "containers/" + new string('x', 128) + "/work", indexOff: true);
        Assert.True(longest.Length <= OverlayMount.PageLimit, $"{longest.Length} bytes");
        lowers.Add("l/abcdefgh");
        var e = Assert.Throws<InvalidInputException>(() => OverlayMount.Mount("/nonexistent", lowers, null, null, "prepare x"));
        Assert.Contains($"maximum of {OverlayMount.MaxDepth}", e.Message, StringComparison.Ordinal);
    }
}

public sealed class CopySnapshotterTests(ITestOutputHelper output) : SnapshotterTests(output)
{
    // Only the simulated-crash mount needs root; the driver itself works for any user on own files.
    protected override bool CanRun => true;

    protected override ISnapshotter Create() => new CopySnapshotter(SnapshotsDir);
}
