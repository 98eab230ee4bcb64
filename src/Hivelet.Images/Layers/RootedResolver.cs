using Hivelet.Interop;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Layers;

/// <summary>
/// Opens directories below a root as if the root were "/": symlinks are followed, but absolute
/// targets restart at the root and ".." stops there (CVE-2014-9356, CVE-2021-29136). The kernel does
/// it with openat2(RESOLVE_IN_ROOT) on Linux 5.6+; elsewhere (older kernels, qemu-user, seccomp
/// profiles that hide openat2) the same rules are applied here one component at a time with
/// openat(O_NOFOLLOW). The last directory opened is cached, since tar entries come grouped by
/// directory; <see cref="Invalidate"/> must be called whenever a directory is removed.
/// </summary>
internal sealed class RootedResolver : IDisposable
{
    private const int MaxSymlinks = 40;

    // Probed once per process: the answer does not change, and the fallback is logged only once.
    private static volatile bool _openat2Unavailable;

    private readonly SafeDirectoryHandle _root;
    private readonly ILogger _logger;
    private bool _useOpenat2;
    private string? _cachedPath;
    private SafeDirectoryHandle? _cached;

    public RootedResolver(SafeDirectoryHandle root, bool useOpenat2, ILogger logger)
    {
        _root = root;
        _useOpenat2 = useOpenat2 && !_openat2Unavailable;
        _logger = logger;
    }

    public SafeDirectoryHandle Root => _root;

    /// <summary>
    /// When set, receives the path (relative to the root) of every directory that <see cref="Resolve"/>
    /// creates because it was missing, or <see cref="UnknownCreated"/> when the walk went through a
    /// symlink and the created directory's path is not the one asked for.
    /// </summary>
    public ICollection<string>? CreatedDirectories { get; set; }

    /// <summary>Recorded in <see cref="CreatedDirectories"/> for a directory created behind a symlink.</summary>
    public const string UnknownCreated = "\0";

    /// <summary>
    /// The directory <paramref name="path"/> (clean, relative), created 0755 where missing when
    /// <paramref name="create"/>. Returns null when it does not exist and create is false. The handle
    /// belongs to the resolver: valid until the next call, never disposed by the caller.
    /// </summary>
    public SafeDirectoryHandle? Resolve(string path, bool create)
    {
        if (path.Length == 0)
            return _root;
        if (_cached != null && string.Equals(path, _cachedPath, StringComparison.Ordinal))
            return _cached;
        var handle = Open(path, create);
        if (handle is null)
            return null;
        _cached?.Dispose();
        _cached = handle;
        _cachedPath = path;
        return handle;
    }

    /// <summary>Like <see cref="Resolve"/> but not cached: the caller disposes the result (unless it is <see cref="Root"/>).</summary>
    public SafeDirectoryHandle? ResolveOwned(string path) => path.Length == 0 ? _root : Open(path, create: false);

    public void Invalidate()
    {
        _cached?.Dispose();
        _cached = null;
        _cachedPath = null;
    }

    public void Dispose() => Invalidate();

    private SafeDirectoryHandle? Open(string path, bool create)
    {
        if (_useOpenat2)
        {
            int err = Sys.TryOpenDirectoryInRoot(_root, path, out var dir);
            if (err == 0)
                return dir;
            if (err is Errnos.ENOSYS or Errnos.EPERM)
            {
                if (!_openat2Unavailable)
                    LayersLog.Openat2Unavailable(_logger, err);
                _openat2Unavailable = true;
                _useOpenat2 = false;
            }
            else if (err == Errnos.ENOENT && !create)
            {
                return null;
            }
            else if (err == Errnos.ENOTDIR)
            {
                throw new ErrnoException("openat2", path, err);
            }
            // ENOENT with create, or anything odd (EAGAIN after a concurrent rename, ELOOP): the walk
            // below creates what is missing and reports errors per component.
        }
        return Walk(path, create);
    }

    private SafeDirectoryHandle? Walk(string path, bool create)
    {
        var stack = new List<SafeDirectoryHandle>();
        var pending = new List<string>(path.Split('/'));
        pending.Reverse();
        int links = 0;
        bool dotted = false;
        // The components opened so far, while no symlink or ".." made them differ from the path asked for.
        var logical = new List<string>();
        string LogicalPath(List<SafeDirectoryHandle> opened, string last) =>
            opened.Count == 0 ? last : string.Join('/', logical.Take(opened.Count)) + "/" + last;
        try
        {
            while (pending.Count > 0)
            {
                string part = pending[^1];
                pending.RemoveAt(pending.Count - 1);
                if (part.Length == 0 || part == ".")
                    continue;
                if (part == "..")
                {
                    dotted = true;
                    // ".." at the root stays at the root, as in a chroot.
                    if (stack.Count > 0)
                    {
                        stack[^1].Dispose();
                        stack.RemoveAt(stack.Count - 1);
                    }
                    continue;
                }
                var current = stack.Count > 0 ? stack[^1] : _root;
                int err = Sys.TryOpenDirectoryAt(current, part, out var next);
                if (err == 0)
                {
                    stack.Add(next!);
                    if (logical.Count < stack.Count)
                        logical.Add(part);
                    continue;
                }
                if (err == Errnos.ENOENT)
                {
                    if (!create)
                        return null;
                    int mk = Sys.TryMkdirAt(current, part, 0x1ED);
                    if (mk != 0 && mk != Errnos.EEXIST)
                        throw new ErrnoException("mkdirat", path, mk);
                    if (mk == 0 && CreatedDirectories is { } created)
                        created.Add(links == 0 && !dotted ? LogicalPath(stack, part) : UnknownCreated);
                    pending.Add(part);
                    continue;
                }
                if (err is Errnos.ELOOP or Errnos.ENOTDIR)
                {
                    int st = Sys.TryStatAt(current, part, out uint mode, out _);
                    if (st != 0)
                        throw new ErrnoException("statx", path, st);
                    if ((mode & Sys.S_IFMT) != Sys.S_IFLNK)
                        throw new ErrnoException("openat", path, Errnos.ENOTDIR);
                    if (++links > MaxSymlinks)
                        throw new ErrnoException("openat", path, Errnos.ELOOP);
                    string target = Sys.ReadLinkAt(current, part);
                    if (target.StartsWith('/'))
                    {
                        foreach (var h in stack)
                            h.Dispose();
                        stack.Clear();
                    }
                    var targetParts = target.Split('/');
                    for (int i = targetParts.Length - 1; i >= 0; i--)
                        pending.Add(targetParts[i]);
                    continue;
                }
                throw new ErrnoException("openat", path, err);
            }
            if (stack.Count == 0)
                return DuplicateRoot();
            var result = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return result;
        }
        finally
        {
            foreach (var h in stack)
                h.Dispose();
        }
    }

    /// <summary>A path that resolves back to the root (e.g. "a/.." or a symlink to "/") needs its own fd.</summary>
    private SafeDirectoryHandle DuplicateRoot()
    {
        int err = Sys.TryOpenDirectoryAt(_root, ".", out var dup);
        if (err != 0)
            throw new ErrnoException("openat", ".", err);
        return dup!;
    }
}
