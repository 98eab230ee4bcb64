using Hivelet.Interop;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Tests.Spec;
using Hivelet.Runtime.Volumes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Tests.Volumes;

public sealed class VolumeSeederTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly VolumeStore _store;
    private readonly string _rootfs;

    public VolumeSeederTests()
    {
        _store = new VolumeStore(_dir.Sub("store"));
        _rootfs = _dir.Sub("rootfs");
        _dir.WriteFile("rootfs/var/lib/app/config", "from the image");
        _dir.WriteFile("rootfs/var/lib/app/sub/x", "x");
        File.CreateSymbolicLink(Path.Combine(_rootfs, "var/lib/app/link"), "/etc/shadow");
        _dir.WriteFile("outside/secret", "host file");
        Directory.CreateDirectory(Path.Combine(_rootfs, "srv"));
        File.CreateSymbolicLink(Path.Combine(_rootfs, "srv/escape"), _dir.Sub("outside"));
    }

    public void Dispose() => _dir.Dispose();

    private ContainerRecord With(params (string Volume, string Destination, string Mode)[] mounts) => new()
    {
        Mounts = mounts.Select(m => new MountPoint
        {
            Type = "volume",
            Name = m.Volume,
            Source = _store.Create(m.Volume).Mountpoint,
            Destination = m.Destination,
            Mode = m.Mode,
        }).ToList(),
    };

    [Fact]
    public void An_empty_volume_gets_the_images_files_and_symlinks_stay_symlinks()
    {
        var rec = With(("data", "/var/lib/app", "z"));
        VolumeSeeder.SeedEmptyVolumes(rec, _rootfs, NullLogger.Instance);
        var data = _store.DataPath("data");
        Assert.Equal("from the image", File.ReadAllText(Path.Combine(data, "config")));
        Assert.Equal("x", File.ReadAllText(Path.Combine(data, "sub/x")));
        Assert.Equal("/etc/shadow", Sys.ReadLink(Path.Combine(data, "link")));
    }

    [Fact]
    public void A_volume_with_content_or_nocopy_is_left_alone()
    {
        var rec = With(("full", "/var/lib/app", "z"), ("nc", "/var/lib/app", "z,nocopy"));
        File.WriteAllText(Path.Combine(_store.DataPath("full"), "mine"), "keep");
        VolumeSeeder.SeedEmptyVolumes(rec, _rootfs, NullLogger.Instance);
        Assert.Equal(["mine"], Directory.EnumerateFileSystemEntries(_store.DataPath("full")).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.DataPath("nc")));
    }

    [Fact]
    public void A_mount_point_reached_through_a_symlink_out_of_the_root_copies_nothing()
    {
        var rec = With(("esc", "/srv/escape", "z"), ("none", "/not/in/image", "z"));
        VolumeSeeder.SeedEmptyVolumes(rec, _rootfs, NullLogger.Instance);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.DataPath("esc")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.DataPath("none")));
    }
}
