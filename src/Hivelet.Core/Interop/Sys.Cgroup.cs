using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Hivelet.Interop;

public static partial class Sys
{
    /// <summary>
    /// Writes <paramref name="value"/> to a cgroup control file in ONE write(2): the kernel parses each
    /// write on its own, so a value split over two writes would be two (wrong) values. The file is not
    /// created when missing: a missing control file means a missing controller. Returns 0 or the errno.
    /// </summary>
    public static unsafe int TryWriteCgroupFile(string path, string value)
    {
        int fd;
        do
        {
            // O_TRUNC is ignored by cgroupfs and makes the same code right on the plain files of tests.
            fd = Libc.open(path, Libc.Cgroup.O_WRONLY | Libc.Cgroup.O_TRUNC | Libc.O_CLOEXEC, 0);
        }
        while (fd == -1 && Marshal.GetLastPInvokeError() == Errnos.EINTR);
        if (fd == -1)
            return Marshal.GetLastPInvokeError();
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(value);
            fixed (byte* p = bytes)
            {
                while (true)
                {
                    nint n = Libc.Cgroup.write(fd, p, (nuint)bytes.Length);
                    if (n >= 0)
                        return n == bytes.Length ? 0 : Errnos.EIO;
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Errnos.EINTR)
                        return errno;
                }
            }
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>Creates a cgroup directory; false when it already existed.</summary>
    public static bool MakeCgroupDirectory(string path)
    {
        if (Libc.Cgroup.mkdir(path, 0x1ED /* 0755 */) == 0)
            return true;
        int errno = Marshal.GetLastPInvokeError();
        return errno == Errnos.EEXIST ? false : throw new ErrnoException("mkdir", path, errno);
    }

    /// <summary>rmdir(2) of a cgroup: returns 0 or the errno (EBUSY while processes remain, ENOENT when gone).</summary>
    public static int TryRemoveCgroupDirectory(string path) =>
        Libc.Cgroup.rmdir(path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>SIGKILLs a process; false when it is already gone (ESRCH).</summary>
    public static bool KillProcessForCgroup(int pid)
    {
        if (Libc.Cgroup.kill(pid, Libc.Cgroup.SIGKILL) == 0)
            return true;
        int errno = Marshal.GetLastPInvokeError();
        return errno == Libc.Cgroup.ESRCH ? false : throw new ErrnoException("kill", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), errno);
    }

    /// <summary>
    /// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (raw 8-byte eBPF instructions) and attaches it to
    /// the cgroup v2 directory <paramref name="cgroupPath"/> with BPF_F_ALLOW_MULTI, so programs of
    /// ancestors (systemd's) keep applying too. The attachment holds the program; our fds are closed.
    /// On a verifier rejection the first lines of its log are part of the error.
    /// </summary>
    public static unsafe void AttachCgroupDeviceProgram(string cgroupPath, ReadOnlySpan<byte> instructions, string license)
    {
        if (Libc.Cgroup.SYS_bpf < 0)
            throw new ErrnoException("bpf", cgroupPath, Errnos.ENOSYS);
        int dirFd = Check(Libc.open(cgroupPath, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", cgroupPath);
        using var dir = new SafeDirectoryHandle(dirFd);
        int progFd = LoadDeviceProgram(instructions, license, cgroupPath, withLog: false);
        try
        {
            // union bpf_attr, BPF_PROG_ATTACH: u32 target_fd @0, u32 attach_bpf_fd @4, u32 attach_type @8,
            // u32 attach_flags @12. The rest stays zero, which the kernel requires of unused bytes.
            Span<byte> attr = stackalloc byte[BpfAttrBytes];
            attr.Clear();
            BpfPutU32(attr, 0, (uint)dir.Fd);
            BpfPutU32(attr, 4, (uint)progFd);
            BpfPutU32(attr, 8, Libc.Cgroup.BPF_CGROUP_DEVICE);
            BpfPutU32(attr, 12, Libc.Cgroup.BPF_F_ALLOW_MULTI);
            fixed (byte* a = attr)
            {
                if (Libc.Cgroup.syscall_bpf(Libc.Cgroup.SYS_bpf, Libc.Cgroup.BPF_PROG_ATTACH, a, (nuint)attr.Length) < 0)
                    throw new ErrnoException("bpf(BPF_PROG_ATTACH)", cgroupPath, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            Libc.close(progFd);
        }
    }

    /// <summary>How many device programs are attached to <paramref name="cgroupPath"/> itself (BPF_PROG_QUERY).</summary>
    public static unsafe int CountCgroupDevicePrograms(string cgroupPath)
    {
        int dirFd = Check(Libc.open(cgroupPath, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", cgroupPath);
        using var dir = new SafeDirectoryHandle(dirFd);
        // BPF_PROG_QUERY: u32 target_fd @0, u32 attach_type @4, u32 query_flags @8, u32 attach_flags @12,
        // u64 prog_ids @16, u32 prog_cnt @24. A null prog_ids asks for the count only.
        Span<byte> attr = stackalloc byte[BpfAttrBytes];
        attr.Clear();
        BpfPutU32(attr, 0, (uint)dir.Fd);
        BpfPutU32(attr, 4, Libc.Cgroup.BPF_CGROUP_DEVICE);
        fixed (byte* a = attr)
        {
            if (Libc.Cgroup.syscall_bpf(Libc.Cgroup.SYS_bpf, Libc.Cgroup.BPF_PROG_QUERY, a, (nuint)attr.Length) < 0)
                throw new ErrnoException("bpf(BPF_PROG_QUERY)", cgroupPath, Marshal.GetLastPInvokeError());
        }
        return (int)BpfGetU32(attr, 24);
    }

    // Larger than every field we set; the kernel accepts a bigger attr as long as its tail is zero.
    private const int BpfAttrBytes = 128;

    private static unsafe int LoadDeviceProgram(ReadOnlySpan<byte> instructions, string license, string subject, bool withLog)
    {
        byte[] licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        byte[] log = withLog ? new byte[64 * 1024] : [];
        Span<byte> attr = stackalloc byte[BpfAttrBytes];
        attr.Clear();
        fixed (byte* insns = instructions)
        fixed (byte* lic = licenseBytes)
        fixed (byte* logBuf = log)
        fixed (byte* a = attr)
        {
            // BPF_PROG_LOAD: u32 prog_type @0, u32 insn_cnt @4, u64 insns @8, u64 license @16,
            // u32 log_level @24, u32 log_size @28, u64 log_buf @32. Pointers are u64 on every arch.
            BpfPutU32(attr, 0, Libc.Cgroup.BPF_PROG_TYPE_CGROUP_DEVICE);
            BpfPutU32(attr, 4, (uint)(instructions.Length / 8));
            BpfPutU64(attr, 8, (ulong)(nuint)insns);
            BpfPutU64(attr, 16, (ulong)(nuint)lic);
            if (withLog)
            {
                BpfPutU32(attr, 24, 1);
                BpfPutU32(attr, 28, (uint)log.Length);
                BpfPutU64(attr, 32, (ulong)(nuint)logBuf);
            }
            nint fd = Libc.Cgroup.syscall_bpf(Libc.Cgroup.SYS_bpf, Libc.Cgroup.BPF_PROG_LOAD, a, (nuint)attr.Length);
            if (fd >= 0)
                return (int)fd;
            int errno = Marshal.GetLastPInvokeError();
            if (!withLog && errno is Errnos.EINVAL or Errnos.EACCES)
            {
                // Load again with the verifier's log so the error says what it rejected.
                int again = LoadDeviceProgram(instructions, license, subject, withLog: true);
                return again;
            }
            if (withLog)
            {
                int len = log.AsSpan().IndexOf((byte)0);
                string text = Encoding.UTF8.GetString(log, 0, len < 0 ? log.Length : len).Trim().Replace('\n', ' ');
                if (text.Length > 300)
                    text = text[..300];
                if (text.Length > 0)
                    throw new ErrnoException($"bpf(BPF_PROG_LOAD) [verifier: {text}]", subject, errno);
            }
            throw new ErrnoException("bpf(BPF_PROG_LOAD)", subject, errno);
        }
    }

    private static void BpfPutU32(Span<byte> attr, int offset, uint value)
    {
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.WriteUInt32LittleEndian(attr[offset..], value);
        else
            BinaryPrimitives.WriteUInt32BigEndian(attr[offset..], value);
    }

    private static void BpfPutU64(Span<byte> attr, int offset, ulong value)
    {
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.WriteUInt64LittleEndian(attr[offset..], value);
        else
            BinaryPrimitives.WriteUInt64BigEndian(attr[offset..], value);
    }

    private static uint BpfGetU32(Span<byte> attr, int offset) =>
        BitConverter.IsLittleEndian
            ? BinaryPrimitives.ReadUInt32LittleEndian(attr[offset..])
            : BinaryPrimitives.ReadUInt32BigEndian(attr[offset..]);
}
