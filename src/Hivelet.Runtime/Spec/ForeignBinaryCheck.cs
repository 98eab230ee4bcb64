using System.Buffers.Binary;
using System.Globalization;
using Hivelet.Errors;

namespace Hivelet.Runtime.Spec;

/// <summary>
/// A container of another architecture (`--platform linux/arm64` on an x86_64 host) only runs when the
/// kernel has a binfmt_misc handler (qemu-user) for its programs; without one the exec fails with a bare
/// "exec format error". Before start this reads the ELF header of the program the container runs,
/// resolved inside the root file system, and the registered handlers, and says what to install.
/// </summary>
public static class ForeignBinaryCheck
{
    public const string BinfmtDir = "/proc/sys/fs/binfmt_misc";
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private const int HeaderSize = 128;
    private const int MaxLinks = 40;

    /// <summary>ELF e_machine values and their OCI architecture names.</summary>
    private static readonly Dictionary<int, string> Machines = new()
    {
        [3] = "386",
        [8] = "mips",
        [20] = "ppc",
        [21] = "ppc64le",
        [22] = "s390x",
        [40] = "arm",
        [62] = "amd64",
        [183] = "arm64",
        [243] = "riscv64",
    };

    /// <summary>
    /// Null when <paramref name="program"/> can run here: it is not found (the start reports that), not
    /// ELF (a script), built for <paramref name="hostArchitecture"/> (or one it runs natively), or some
    /// enabled handler in <paramref name="binfmtDir"/> matches its header. Else the message to fail with.
    /// </summary>
    /// <param name="rootfs">The container's root as the host sees it.</param>
    /// <param name="program">argv[0] as the container runs it ("/bin/sh", or "sh" looked up in PATH).</param>
    /// <param name="env">The container's environment (for PATH).</param>
    /// <param name="hostArchitecture">OCI name of this host's architecture ("amd64", "arm64").</param>
    public static string? Problem(string rootfs, string program, IReadOnlyList<string> env, string hostArchitecture,
        string binfmtDir = BinfmtDir)
    {
        if (string.IsNullOrEmpty(program))
            return null;
        var file = Locate(rootfs, program, env);
        if (file is null)
            return null;
        var header = ReadHeader(file);
        if (header.Length < 20 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
            return null;
        int machine = header[5] == 2 ? BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(18)) : BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18));
        var arch = Machines.GetValueOrDefault(machine, "machine " + machine.ToString(CultureInfo.InvariantCulture));
        if (RunsNatively(hostArchitecture, arch) || HasHandler(binfmtDir, header))
            return null;
        return $"{program} is a linux/{arch} program and this linux/{hostArchitecture} host has no binfmt_misc handler for it: " +
            "install qemu-user-static and binfmt-support (Debian, Raspberry Pi OS: apt-get install qemu-user-static binfmt-support), " +
            $"or use an image for linux/{hostArchitecture}";
    }

    /// <summary>OCI name of the architecture this process runs as.</summary>
    public static string HostArchitecture => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Throws <see cref="HiveletException"/> naming the container when its image is for another
    /// architecture and <see cref="Problem"/> finds one; an image of this host's architecture costs nothing.
    /// </summary>
    public static void Check(string containerName, string imageArchitecture, string rootfs, string program, IReadOnlyList<string> env)
    {
        var host = HostArchitecture;
        if (string.IsNullOrEmpty(imageArchitecture) || RunsNatively(host, imageArchitecture))
            return;
        if (Problem(rootfs, program, env, host) is { } problem)
            throw new HiveletException($"start container {containerName}: {problem}");
    }

    private static bool RunsNatively(string host, string arch) =>
        host == arch || (host, arch) is ("amd64", "386") or ("arm64", "arm");

    /// <summary>Whether an enabled handler's magic and mask match the header (binfmt_misc's own test).</summary>
    internal static bool HasHandler(string binfmtDir, byte[] header)
    {
        var status = Path.Combine(binfmtDir, "status");
        try
        {
            if (!File.Exists(status) || File.ReadAllText(status).Trim() != "enabled")
                return false;
            foreach (var entry in Directory.EnumerateFiles(binfmtDir))
            {
                var name = Path.GetFileName(entry);
                if (name is "status" or "register")
                    continue;
                if (Matches(File.ReadAllLines(entry), header))
                    return true;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return false;
    }

    private static bool Matches(string[] lines, byte[] header)
    {
        if (lines.Length == 0 || lines[0] != "enabled")
            return false;
        int offset = 0;
        byte[]? magic = null, mask = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("offset ", StringComparison.Ordinal))
                offset = int.Parse(line[7..], CultureInfo.InvariantCulture);
            else if (line.StartsWith("magic ", StringComparison.Ordinal))
                magic = Convert.FromHexString(line[6..].Trim());
            else if (line.StartsWith("mask ", StringComparison.Ordinal))
                mask = Convert.FromHexString(line[5..].Trim());
        }
        // Extension handlers ("extension .exe") carry no magic: they never match an ELF by content.
        if (magic is null || offset < 0 || offset + magic.Length > header.Length)
            return false;
        for (int i = 0; i < magic.Length; i++)
        {
            byte m = mask is not null && i < mask.Length ? mask[i] : (byte)0xff;
            if ((header[offset + i] & m) != (magic[i] & m))
                return false;
        }
        return true;
    }

    private static byte[] ReadHeader(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var buffer = new byte[HeaderSize];
            int n = stream.ReadAtLeast(buffer, HeaderSize, throwOnEndOfStream: false);
            return buffer[..n];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The host path of <paramref name="program"/> inside <paramref name="rootfs"/> (PATH lookup as execvp), or null.</summary>
    private static string? Locate(string rootfs, string program, IReadOnlyList<string> env)
    {
        if (program.Contains('/', StringComparison.Ordinal))
            return Resolve(rootfs, program.StartsWith('/') ? program : "/" + program);
        var path = env.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..] ?? DefaultPath;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Resolve(rootfs, dir.TrimEnd('/') + "/" + program) is { } found)
                return found;
        }
        return null;
    }

    /// <summary>
    /// Follows <paramref name="path"/> component by component with the container's root as "/": absolute
    /// symlinks restart at the root and ".." stops there, so nothing outside the root is read. Null when a
    /// component is missing, the hop limit is hit, or the result is not a regular file.
    /// </summary>
    internal static string? Resolve(string rootfs, string path)
    {
        var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = new List<string>();
        int links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (current.Count > 0)
                    current.RemoveAt(current.Count - 1);
                continue;
            }
            var host = Path.Combine(rootfs, Path.Combine([.. current, part]));
            var info = new FileInfo(host);
            if (info.LinkTarget is { } target)
            {
                if (++links > MaxLinks)
                    return null;
                foreach (var p in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(p);
                if (target.StartsWith('/'))
                    current.Clear();
                continue;
            }
            if (!info.Exists && !Directory.Exists(host))
                return null;
            current.Add(part);
        }
        var result = Path.Combine(rootfs, Path.Combine([.. current]));
        return File.Exists(result) ? result : null;
    }
}
