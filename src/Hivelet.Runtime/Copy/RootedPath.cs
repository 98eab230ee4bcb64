using Hivelet.Errors;
using Hivelet.Interop;

namespace Hivelet.Runtime.Copy;

/// <summary>
/// Resolves paths below a root directory as if it were "/": symlinks are followed, but an absolute
/// target restarts at the root and ".." stops there, so a container's symlink never leads out of
/// the container. One component at a time with O_NOFOLLOW opens (the same rules as
/// openat2(RESOLVE_IN_ROOT), and it works where openat2 is missing: old kernels, qemu-user).
/// </summary>
public static class RootedPath
{
    private const int MaxSymlinks = 40;

    /// <summary>
    /// The parent directory of <paramref name="path"/> (opened; the caller disposes it) and the final
    /// name in it. With <paramref name="followFinal"/> a final symlink is resolved too. A missing final
    /// component is fine (Status.Mode == 0); a missing parent throws.
    /// </summary>
    public static (SafeDirectoryHandle Parent, string Name, FileStatus Status) Resolve(SafeDirectoryHandle root, string path, bool followFinal)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(path);
        var pending = new Stack<string>(Split(path).Reverse());
        var resolved = new List<string>();
        int links = 0;
        var current = Reopen(root, resolved);
        try
        {
            while (pending.Count > 0)
            {
                var name = pending.Pop();
                if (name == ".")
                    continue;
                if (name == "..")
                {
                    if (resolved.Count > 0)
                        resolved.RemoveAt(resolved.Count - 1);
                    current.Dispose();
                    current = Reopen(root, resolved);
                    continue;
                }
                bool last = pending.Count == 0;
                int err = Sys.TryLStatAt(current, name, out var st);
                if (err == Errnos.ENOENT && last)
                    return Return(ref current, name, default);
                if (err != 0)
                    throw new ErrnoException("stat", "/" + string.Join('/', resolved.Append(name)), err);
                if (st.IsSymlink && (!last || followFinal))
                {
                    if (++links > MaxSymlinks)
                        throw new ErrnoException("resolve", path, Errnos.ELOOP);
                    var target = Sys.ReadLinkAt(current, name);
                    foreach (var part in Split(target).Reverse())
                        pending.Push(part);
                    if (target.StartsWith('/'))
                    {
                        resolved.Clear();
                        current.Dispose();
                        current = Reopen(root, resolved);
                    }
                    continue;
                }
                if (last)
                    return Return(ref current, name, st);
                if (!st.IsDirectory)
                    throw new ErrnoException("open", "/" + string.Join('/', resolved.Append(name)), Errnos.ENOTDIR);
                err = Sys.TryOpenDirectoryAt(current, name, out var next);
                if (err != 0)
                    throw new ErrnoException("open", "/" + string.Join('/', resolved.Append(name)), err);
                current.Dispose();
                current = next!;
                resolved.Add(name);
            }
            // The path was the root itself ("/", "", "/."): its parent is the root, named ".".
            int e2 = Sys.TryLStatAt(current, "", out var self);
            if (e2 != 0)
                throw new ErrnoException("stat", "/", e2);
            return Return(ref current, ".", self);
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private static (SafeDirectoryHandle, string, FileStatus) Return(ref SafeDirectoryHandle current, string name, FileStatus st)
    {
        var handle = current;
        current = null!;
        return (handle, name, st);
    }

    /// <summary>Opens the directory <paramref name="path"/> below the root (creating nothing).</summary>
    public static SafeDirectoryHandle OpenDirectory(SafeDirectoryHandle root, string path)
    {
        var (parent, name, st) = Resolve(root, path, followFinal: true);
        using (parent)
        {
            if (st.Mode == 0)
                throw new NotFoundException($"no such directory: {path}");
            if (!st.IsDirectory)
                throw new ErrnoException("open", path, Errnos.ENOTDIR);
            if (name == ".")
                return Sys.OpenDirectoryAtSelf(parent);
            int err = Sys.TryOpenDirectoryAt(parent, name, out var dir);
            if (err != 0)
                throw new ErrnoException("open", path, err);
            return dir!;
        }
    }

    private static SafeDirectoryHandle Reopen(SafeDirectoryHandle root, List<string> resolved)
    {
        var current = Sys.OpenDirectoryAtSelf(root);
        foreach (var name in resolved)
        {
            int err = Sys.TryOpenDirectoryAt(current, name, out var next);
            current.Dispose();
            if (err != 0)
                throw new ErrnoException("open", name, err);
            current = next!;
        }
        return current;
    }

    private static IEnumerable<string> Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
