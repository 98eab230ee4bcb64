using System.Runtime.InteropServices;
using Hivelet.Interop;

namespace Hivelet.Core.Tests;

/// <summary>
/// Offsets of the structs handed to the kernel, as include/uapi/linux/stat.h lays them out. They are
/// the same on x86_64, arm64 and arm; this runs on every architecture the tests run on.
/// </summary>
public sealed class StructLayoutTests
{
    [Fact]
    public void StatxMatchesTheKernelLayout()
    {
        Assert.Equal(256, Marshal.SizeOf<Libc.statx_buf>());
        Assert.Equal(16, Marshal.SizeOf<Libc.statx_timestamp>());
        Assert.Equal(28, Offset(nameof(Libc.statx_buf.stx_mode)));
        Assert.Equal(32, Offset(nameof(Libc.statx_buf.stx_ino)));
        Assert.Equal(40, Offset(nameof(Libc.statx_buf.stx_size)));
        Assert.Equal(64, Offset(nameof(Libc.statx_buf.stx_atime)));
        Assert.Equal(112, Offset(nameof(Libc.statx_buf.stx_mtime)));
        Assert.Equal(128, Offset(nameof(Libc.statx_buf.stx_rdev_major)));
        Assert.Equal(136, Offset(nameof(Libc.statx_buf.stx_dev_major)));
    }

    [Fact]
    public unsafe void StatxOfThisFileSystemRootReportsADirectory()
    {
        Libc.statx_buf st;
        Assert.Equal(0, Libc.statx(Libc.AT_FDCWD, "/", Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &st));
        Assert.Equal(0x4000u, st.stx_mode & 0xF000u);
        Assert.NotEqual(0ul, st.stx_ino);
    }

    private static int Offset(string field) => (int)Marshal.OffsetOf<Libc.statx_buf>(field);
}
