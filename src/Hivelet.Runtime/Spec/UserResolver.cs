using System.Globalization;
using System.Text;
using Hivelet.Errors;
using Hivelet.Interop;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Runtime.Spec;

/// <summary>The numeric identity a container process runs with.</summary>
public sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> Groups, string Home);

/// <summary>
/// Resolves `-u user[:group]` and `--group-add` against the container's own /etc/passwd and /etc/group
/// the way runc does (libcontainer/user GetExecUser): names must exist, numbers need not; without an
/// explicit group the user's passwd gid is used plus every group that lists the user by name.
/// The files are read from the host through the container root without ever leaving it.
/// </summary>
public static class UserResolver
{
    private const int MaxFileBytes = 4 << 20;

    /// <summary>Splits "user[:group]"; validates the shape only (names are resolved at start).</summary>
    public static (string User, string? Group) Parse(string spec, string flag)
    {
        var parts = spec.Split(':');
        if (parts.Length > 2 || parts[0].Length == 0 || (parts.Length == 2 && parts[1].Length == 0) ||
            spec.Contains('\0') || spec.Contains('\x1f'))
            throw new InvalidInputException($"invalid argument \"{spec}\" for \"{flag}\" flag: expected user[:group]");
        return (parts[0], parts.Length == 2 ? parts[1] : null);
    }

    public static ResolvedUser Resolve(string rootfs, string? userSpec, IReadOnlyList<string>? groupAdd)
    {
        using var root = Sys.OpenDirectory(rootfs);
        var passwd = ReadInRoot(root, "etc", "passwd");
        var group = ReadInRoot(root, "etc", "group");
        return Resolve(passwd, group, userSpec, groupAdd);
    }

    /// <summary>Resolution over file contents (null = the file is absent).</summary>
    public static ResolvedUser Resolve(string? passwd, string? group, string? userSpec, IReadOnlyList<string>? groupAdd)
    {
        var spec = string.IsNullOrEmpty(userSpec) ? "0" : userSpec;
        var (userArg, groupArg) = Parse(spec, "--user");
        var users = ParseLines(passwd, 7);
        var groups = ParseLines(group, 4);

        uint uid, gid = 0;
        string? name = null;
        string home = "/";
        string[]? entry;
        if (TryId(userArg, out uid))
        {
            entry = users.FirstOrDefault(u => TryId(u[2], out uint x) && x == uid);
        }
        else
        {
            entry = users.FirstOrDefault(u => u[0] == userArg)
                ?? throw new HiveletException($"unable to find user {userArg}: no matching entries in passwd file");
            if (!TryId(entry[2], out uid))
                throw new HiveletException($"unable to find user {userArg}: bad uid in passwd entry");
        }
        if (entry != null)
        {
            name = entry[0];
            if (TryId(entry[3], out uint g))
                gid = g;
            if (entry[5].Length > 0)
                home = entry[5];
        }

        var supplementary = new List<uint>();
        if (groupArg != null)
        {
            gid = LookupGroup(groups, groupArg);
        }
        else if (name != null)
        {
            foreach (var g in groups)
            {
                if (g[3].Split(',').Contains(name, StringComparer.Ordinal) && TryId(g[2], out uint id) && !supplementary.Contains(id))
                    supplementary.Add(id);
            }
        }
        foreach (var extra in groupAdd ?? [])
        {
            uint id = LookupGroup(groups, extra);
            if (!supplementary.Contains(id))
                supplementary.Add(id);
        }
        return new ResolvedUser(uid, gid, supplementary, home);
    }

    private static uint LookupGroup(List<string[]> groups, string arg)
    {
        if (TryId(arg, out uint gid))
            return gid;
        var g = groups.FirstOrDefault(x => x[0] == arg)
            ?? throw new HiveletException($"unable to find group {arg}: no matching entries in group file");
        if (!TryId(g[2], out gid))
            throw new HiveletException($"unable to find group {arg}: bad gid in group entry");
        return gid;
    }

    // Ids are 31-bit like runc's (a -1 or 2^32-1 id would mean "no change" to setresuid).
    private static bool TryId(string s, out uint id) =>
        uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id <= int.MaxValue;

    /// <summary>Colon-separated lines padded to <paramref name="fields"/> fields; comments and blanks skipped.</summary>
    private static List<string[]> ParseLines(string? text, int fields)
    {
        var result = new List<string[]>();
        if (text is null)
            return result;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-')
                continue;
            var parts = line.Split(':');
            if (parts.Length < fields)
                Array.Resize(ref parts, fields);
            for (int i = 0; i < parts.Length; i++)
                parts[i] ??= "";
            result.Add(parts);
        }
        return result;
    }

    /// <summary>
    /// The content of DIR/NAME below <paramref name="root"/> (e.g. etc/passwd), or null when it does not
    /// exist or is not a regular file. Symlinks resolve inside the root (openat2 RESOLVE_IN_ROOT); where
    /// openat2 is missing, no symlink is followed at all.
    /// </summary>
    public static string? ReadInRoot(SafeDirectoryHandle root, string dir, string name)
    {
        var path = dir + "/" + name;
        int err = Sys.TryOpenFileInRoot(root, path, out var file);
        if (err is Errnos.ENOSYS or Errnos.EPERM)
        {
            err = Sys.TryOpenDirectoryAt(root, dir, out var d);
            if (err == 0)
            {
                using (d)
                    err = Sys.TryOpenFileAtNoFollow(d!, name, out file);
            }
        }
        if (err is Errnos.ENOENT or Errnos.ENOTDIR or Errnos.ELOOP or Errnos.EINVAL or Errnos.EXDEV)
            return null;
        if (err != 0)
            throw new ErrnoException("open", path, err);
        using (file)
        {
            using var fs = new FileStream(file!, FileAccess.Read, 1);
            using var ms = new MemoryStream();
            var buffer = new byte[16384];
            int n;
            while ((n = fs.Read(buffer, 0, buffer.Length)) > 0)
            {
                ms.Write(buffer, 0, n);
                if (ms.Length > MaxFileBytes)
                    throw new HiveletException($"read {path} in the container: larger than {MaxFileBytes >> 20} MiB");
            }
            return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
        }
    }
}
