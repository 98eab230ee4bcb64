using System.Runtime.InteropServices;

namespace Hivelet.Interop;

// statx(2) instead of stat(2): struct stat differs between x86_64, arm64 and arm, struct statx does not.
internal static partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    public struct statx_timestamp
    {
        public long tv_sec;
        public uint tv_nsec;
        public int __reserved;
    }

    /// <summary>struct statx (include/uapi/linux/stat.h): 256 bytes on every architecture.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct statx_buf
    {
        public uint stx_mask;
        public uint stx_blksize;
        public ulong stx_attributes;
        public uint stx_nlink;
        public uint stx_uid;
        public uint stx_gid;
        public ushort stx_mode;
        public ushort __spare0;
        public ulong stx_ino;
        public ulong stx_size;
        public ulong stx_blocks;
        public ulong stx_attributes_mask;
        public statx_timestamp stx_atime;
        public statx_timestamp stx_btime;
        public statx_timestamp stx_ctime;
        public statx_timestamp stx_mtime;
        public uint stx_rdev_major;
        public uint stx_rdev_minor;
        public uint stx_dev_major;
        public uint stx_dev_minor;
    }

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int statx(int dirfd, string path, int flags, uint mask, statx_buf* buf);
}
