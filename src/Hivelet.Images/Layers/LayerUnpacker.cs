using System.Buffers;
using Hivelet.Errors;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Images.Layers;

/// <summary>
/// Applies the entries of one layer onto a root that already shows the layers below it. Every
/// operation is relative to a directory fd obtained through <see cref="RootedResolver"/> and names a
/// single component, so nothing is ever written through a symlink, and nothing leaves the root.
/// </summary>
internal sealed class LayerUnpacker : IDisposable
{
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetaPrefix = ".wh..wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const string OverlayOpaqueXattr = "trusted.overlay.opaque";
    private const string DefaultAclXattr = "system.posix_acl_default";
    private const uint SetGidBit = 0x400;
    private const int CopyBufferSize = 1 << 20;

    private readonly RootedResolver _resolver;
    private readonly string _layer;
    private readonly bool _chown;
    private readonly bool _skipUnpermittedDevices;
    private readonly ILogger _logger;
    private readonly CancellationToken _ct;
    private readonly byte[] _buffer;
    private readonly bool _overlayUpper;

    // Overlay-upper mode: directories the resolver had to create that no entry of this layer named
    // (yet). Any left at the end mean the layer relies on what is below it (a parent directory's
    // metadata, a symlinked parent): the layer must be applied onto the merged view instead.
    private readonly HashSet<string> _implicitDirectories = new(StringComparer.Ordinal);
    private bool _setGidDirectorySeen;
    private bool _defaultAclSeen;

    // Paths this layer created, with their ancestors: an opaque marker must spare them whatever the
    // order of entries (image-spec layer.md, "Opaque Whiteout").
    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);
    private readonly List<(string Path, DateTimeOffset Atime, DateTimeOffset Mtime)> _directoryTimes = [];

    /// <param name="overlayUpper">
    /// The root is the empty upper directory of an overlay layer whose lower layers are not visible:
    /// whiteouts become overlay whiteouts (0/0 character devices), opaque markers the
    /// trusted.overlay.opaque xattr, and an entry that needs the layers below throws
    /// <see cref="LayerNeedsParentException"/>. Since the root starts empty, files are created
    /// without looking first, and ownership and mode calls that would change nothing are skipped.
    /// </param>
    public LayerUnpacker(RootedResolver resolver, string layer, bool chown, bool skipUnpermittedDevices, ILogger logger,
        CancellationToken ct, bool overlayUpper = false)
    {
        _overlayUpper = overlayUpper;
        if (overlayUpper)
            resolver.CreatedDirectories = _implicitDirectories;
        _resolver = resolver;
        _layer = layer;
        _chown = chown;
        _skipUnpermittedDevices = skipUnpermittedDevices;
        _logger = logger;
        _ct = ct;
        _buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

    public void Apply(TarEntry entry, TarReader reader)
    {
        _ct.ThrowIfCancellationRequested();
        string path = LayerPath.CleanOrThrow(entry.Name, _layer, entry.Name);
        if (path.Length == 0)
        {
            LayersLog.EntryIgnored(_logger, _layer, entry.Name, "it names the root itself");
            return;
        }
        var (parentPath, name) = LayerPath.Split(path);
        try
        {
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                ApplyWhiteout(entry, parentPath, name);
                return;
            }
            MarkTouched(path);
            NoteXattrs(entry);
            var parent = _resolver.Resolve(parentPath, create: true)!;
            if (_overlayUpper && TryCreateFresh(entry, reader, parent, name, path))
                return;
            if (!PrepareDestination(entry, parent, name))
            {
                UpdateDirectory(entry, parent, name, path);
                return;
            }
            switch (entry.Type)
            {
                case TarEntryType.File:
                    WriteFile(entry, reader, parent, name);
                    break;
                case TarEntryType.Directory:
                    CreateDirectory(entry, parent, name, path);
                    break;
                case TarEntryType.Symlink:
                    Sys.SymlinkAt(entry.LinkName!, parent, name);
                    FinishNonRegular(entry, parent, name, isSymlink: true);
                    break;
                case TarEntryType.HardLink:
                    CreateHardLink(entry, parent, name, path);
                    break;
                case TarEntryType.CharDevice:
                case TarEntryType.BlockDevice:
                case TarEntryType.Fifo:
                    if (CreateNode(entry, parent, name))
                        FinishNonRegular(entry, parent, name, isSymlink: false);
                    break;
            }
        }
        catch (ErrnoException e)
        {
            throw new HiveletException($"apply layer {_layer}: entry \"{entry.Name}\"", e);
        }
    }

    /// <summary>Sets directory times last: creating children would have bumped them.</summary>
    public void Finish()
    {
        if (_overlayUpper && _implicitDirectories.Count > 0)
        {
            var first = _implicitDirectories.First();
            throw new LayerNeedsParentException(first == RootedResolver.UnknownCreated
                ? "a directory was created behind a symlink"
                : $"directory \"{first}\" has no entry in the layer");
        }
        foreach (var (path, atime, mtime) in _directoryTimes)
        {
            _ct.ThrowIfCancellationRequested();
            var (parentPath, name) = LayerPath.Split(path);
            var parent = _resolver.Resolve(parentPath, create: false);
            if (parent is null || Sys.TryStatAt(parent, name, out uint mode, out _) != 0 || (mode & Sys.S_IFMT) != Sys.S_IFDIR)
                continue;
            try
            {
                SetTimes(parent, name, atime, mtime);
            }
            catch (ErrnoException e)
            {
                throw new HiveletException($"apply layer {_layer}: entry \"{path}/\"", e);
            }
        }
    }

    private void NoteXattrs(TarEntry entry)
    {
        if (entry.Type == TarEntryType.Directory && ((uint)entry.Mode & SetGidBit) != 0)
            _setGidDirectorySeen = true;
        if (entry.Xattrs.Count > 0 && entry.Xattrs.ContainsKey(DefaultAclXattr))
            _defaultAclSeen = true;
    }

    /// <summary>
    /// Overlay-upper fast path for files and directories: create first (O_EXCL / mkdirat), and only
    /// when the name is taken (an entry repeated in the same layer) take the careful path. False
    /// when nothing was done.
    /// </summary>
    private bool TryCreateFresh(TarEntry entry, TarReader reader, SafeDirectoryHandle parent, string name, string path)
    {
        uint mode = (uint)entry.Mode & 0xFFF;
        if (entry.Type == TarEntryType.File)
        {
            int err = Sys.TryCreateFileAt(parent, name, mode & 0x1FF, out var file);
            if (err == Errnos.EEXIST)
                return false;
            if (err != 0)
                throw new ErrnoException("openat", name, err);
            using (file)
                WriteAndFinishFile(entry, reader, file!, createdWithMode: true);
            return true;
        }
        if (entry.Type == TarEntryType.Directory)
        {
            int err = Sys.TryMkdirAt(parent, name, mode & 0x1FF);
            if (err == Errnos.EEXIST)
                return false;
            if (err != 0)
                throw new ErrnoException("mkdirat", name, err);
            _implicitDirectories.Remove(path);
            if (NeedsChown(entry) || NeedsChmod(mode) || entry.Xattrs.Count > 0)
                UpdateDirectory(entry, parent, name, path, fresh: true);
            else
                _directoryTimes.Add((path, entry.AccessTime ?? entry.ModifiedTime, entry.ModifiedTime));
            return true;
        }
        return false;
    }

    /// <summary>
    /// A new file or directory made by this process in an empty root is already root:root when the
    /// process runs as root:root and no set-gid directory of the layer passed its group on.
    /// </summary>
    private bool NeedsChown(TarEntry entry) =>
        _chown && !(_overlayUpper && entry.Uid == 0 && entry.Gid == 0 && !_setGidDirectorySeen && ProcessIdentity.IsRootRoot);

    /// <summary>The mode given to openat/mkdirat is exact unless the umask (or a default ACL) took bits away or special bits are asked for.</summary>
    private bool NeedsChmod(uint mode) =>
        !_overlayUpper || _defaultAclSeen || (mode & 0xE00) != 0 || (mode & ProcessIdentity.Umask) != 0;

    private void MarkTouched(string path)
    {
        while (_touched.Add(path))
        {
            int slash = path.LastIndexOf('/');
            if (slash < 0)
                return;
            path = path[..slash];
        }
    }

    /// <summary>
    /// Clears the way for the entry: false when a directory entry meets an existing directory (kept,
    /// only its metadata changes); otherwise whatever is there is removed, never written through.
    /// </summary>
    private bool PrepareDestination(TarEntry entry, SafeDirectoryHandle parent, string name)
    {
        int err = Sys.TryStatAt(parent, name, out uint mode, out _);
        if (err == Errnos.ENOENT)
            return true;
        if (err != 0)
            throw new ErrnoException("statx", name, err);
        bool isDir = (mode & Sys.S_IFMT) == Sys.S_IFDIR;
        if (isDir && entry.Type == TarEntryType.Directory)
            return false;
        _replacedWhiteout = _overlayUpper && entry.Type == TarEntryType.Directory && (mode & Sys.S_IFMT) == Sys.S_IFCHR;
        if (isDir)
        {
            RemoveAll(parent, name);
            _resolver.Invalidate();
        }
        else
        {
            int un = Sys.TryUnlinkAt(parent, name, directory: false);
            if (un != 0 && un != Errnos.ENOENT)
                throw new ErrnoException("unlinkat", name, un);
        }
        return true;
    }

    private void WriteFile(TarEntry entry, TarReader reader, SafeDirectoryHandle parent, string name)
    {
        using var file = Sys.CreateFileAt(parent, name);
        WriteAndFinishFile(entry, reader, file, createdWithMode: false);
    }

    private void WriteAndFinishFile(TarEntry entry, TarReader reader, SafeFileHandle file, bool createdWithMode)
    {
        // Fill the buffer before writing: decompressors hand out small pieces, and one write(2) per
        // file (up to 1 MiB) is what keeps the per-file cost at GNU tar's level or below.
        while (true)
        {
            int filled = 0, n;
            while (filled < _buffer.Length && (n = reader.ReadData(_buffer.AsSpan(filled))) > 0)
                filled += n;
            if (filled == 0)
                break;
            Sys.WriteAll(file, _buffer.AsSpan(0, filled), entry.Name);
            _ct.ThrowIfCancellationRequested();
        }
        // chown clears setuid/setgid, so it must come before chmod.
        if (NeedsChown(entry))
            Sys.FChown(file, Id(entry.Uid, entry), Id(entry.Gid, entry), entry.Name);
        uint mode = (uint)entry.Mode & 0xFFF;
        if (!createdWithMode || NeedsChmod(mode))
            Sys.FChmod(file, mode, entry.Name);
        foreach (var (key, value) in entry.Xattrs)
        {
            if (AllowXattr(entry, key))
                HandleXattrResult(entry, key, Sys.TryFSetXattr(file, key, value), regularOrDir: true);
        }
        var (aSec, aNsec, mSec, mNsec) = ToTimespecs(entry.AccessTime, entry.ModifiedTime);
        Sys.FUtimens(file, aSec, aNsec, mSec, mNsec, entry.Name);
    }

    private void CreateDirectory(TarEntry entry, SafeDirectoryHandle parent, string name, string path)
    {
        int err = Sys.TryMkdirAt(parent, name, 0x1C0);
        if (err != 0)
            throw new ErrnoException("mkdirat", name, err);
        if (_replacedWhiteout)
        {
            // The layer deleted this directory below and made a new one: nothing of the old one shows.
            _replacedWhiteout = false;
            int open = Sys.TryOpenDirectoryAt(parent, name, out var dir);
            if (open != 0)
                throw new ErrnoException("openat", name, open);
            using (dir)
                SetOpaque(dir!, name);
        }
        UpdateDirectory(entry, parent, name, path);
    }

    private bool _replacedWhiteout;

    private static void SetOpaque(SafeDirectoryHandle dir, string name)
    {
        int err = Sys.TryFSetXattr(dir, OverlayOpaqueXattr, "y"u8);
        if (err != 0)
            throw new ErrnoException($"setxattr {OverlayOpaqueXattr}", name, err);
    }

    private void UpdateDirectory(TarEntry entry, SafeDirectoryHandle parent, string name, string path, bool fresh = false)
    {
        _implicitDirectories.Remove(path);
        int err = Sys.TryOpenDirectoryAt(parent, name, out var dir);
        if (err != 0)
            throw new ErrnoException("openat", name, err);
        using (dir)
        {
            if (fresh ? NeedsChown(entry) : _chown)
                Sys.FChown(dir!, Id(entry.Uid, entry), Id(entry.Gid, entry), entry.Name);
            Sys.FChmod(dir!, (uint)entry.Mode & 0xFFF, entry.Name);
            foreach (var (key, value) in entry.Xattrs)
            {
                if (AllowXattr(entry, key))
                    HandleXattrResult(entry, key, Sys.TryFSetXattr(dir!, key, value), regularOrDir: true);
            }
        }
        _directoryTimes.Add((path, entry.AccessTime ?? entry.ModifiedTime, entry.ModifiedTime));
    }

    private void CreateHardLink(TarEntry entry, SafeDirectoryHandle parent, string name, string path)
    {
        // Absolute targets (kaniko writes them) are taken relative to the root, as moby does.
        string? target = LayerPath.Clean(entry.LinkName!);
        if (target is null || target.Length == 0)
            throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": hard link target \"{entry.LinkName}\" is outside the root");
        if (string.Equals(target, path, StringComparison.Ordinal))
            return;
        var (targetParentPath, targetName) = LayerPath.Split(target);
        var targetParent = _resolver.ResolveOwned(targetParentPath);
        if (targetParent is null && _overlayUpper)
            throw new LayerNeedsParentException($"hard link \"{entry.Name}\" names \"{entry.LinkName}\", which is not in the layer");
        targetParent = targetParent ?? throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": hard link target \"{entry.LinkName}\" does not exist");
        try
        {
            int st = Sys.TryStatAt(targetParent, targetName, out uint mode, out _);
            if (st == Errnos.ENOENT && _overlayUpper)
                throw new LayerNeedsParentException($"hard link \"{entry.Name}\" names \"{entry.LinkName}\", which is not in the layer");
            if (st == Errnos.ENOENT)
                throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": hard link target \"{entry.LinkName}\" does not exist");
            if (st != 0)
                throw new ErrnoException("statx", target, st);
            if ((mode & Sys.S_IFMT) == Sys.S_IFDIR)
                throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": hard link target \"{entry.LinkName}\" is a directory");
            int err = Sys.TryLinkAt(targetParent, targetName, parent, name);
            if (err != 0)
                throw new ErrnoException("linkat", $"{target} -> {path}", err);
        }
        finally
        {
            if (!ReferenceEquals(targetParent, _resolver.Root))
                targetParent.Dispose();
        }
    }

    private bool CreateNode(TarEntry entry, SafeDirectoryHandle parent, string name)
    {
        uint type = entry.Type switch
        {
            TarEntryType.CharDevice => Sys.S_IFCHR,
            TarEntryType.BlockDevice => Sys.S_IFBLK,
            _ => Sys.S_IFIFO,
        };
        ulong dev = 0;
        if (entry.Type != TarEntryType.Fifo)
        {
            if (entry.DeviceMajor is < 0 or > uint.MaxValue || entry.DeviceMinor is < 0 or > uint.MaxValue)
                throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": device number {entry.DeviceMajor}:{entry.DeviceMinor} out of range");
            dev = MakeDev((ulong)entry.DeviceMajor, (ulong)entry.DeviceMinor);
        }
        int err = Sys.TryMknodAt(parent, name, type | ((uint)entry.Mode & 0xFFF), dev);
        if (err == 0)
            return true;
        if (err == Errnos.EPERM && _skipUnpermittedDevices && entry.Type != TarEntryType.Fifo)
        {
            LayersLog.DeviceSkipped(_logger, _layer, entry.Name);
            return false;
        }
        throw new ErrnoException("mknodat", name, err);
    }

    /// <summary>glibc's makedev: the 64-bit dev_t encoding used by every Linux architecture.</summary>
    private static ulong MakeDev(ulong major, ulong minor) =>
        ((major & 0xFFF) << 8) | ((major & 0xFFFFF000) << 32) | (minor & 0xFF) | ((minor & 0xFFFFFF00) << 12);

    private void FinishNonRegular(TarEntry entry, SafeDirectoryHandle parent, string name, bool isSymlink)
    {
        if (_chown)
            Sys.FChownAt(parent, name, Id(entry.Uid, entry), Id(entry.Gid, entry));
        // Linux has no chmod for symlinks; for the node just made by mknodat, chmod escapes the umask.
        if (!isSymlink)
            Sys.FChmodAt(parent, name, (uint)entry.Mode & 0xFFF);
        if (entry.Xattrs.Count > 0)
        {
            string procPath = $"/proc/self/fd/{parent.Fd}/{name}";
            foreach (var (key, value) in entry.Xattrs)
            {
                if (AllowXattr(entry, key))
                    HandleXattrResult(entry, key, Sys.TryLSetXattr(procPath, key, value), regularOrDir: false);
            }
        }
        SetTimes(parent, name, entry.AccessTime ?? entry.ModifiedTime, entry.ModifiedTime);
    }

    private bool AllowXattr(TarEntry entry, string key)
    {
        if (!key.StartsWith("trusted.", StringComparison.Ordinal))
            return true;
        LayersLog.TrustedXattrRefused(_logger, _layer, entry.Name, key);
        return false;
    }

    /// <summary>Tolerates what containerd tolerates: no xattr support, and user.* refused on special files.</summary>
    private void HandleXattrResult(TarEntry entry, string key, int err, bool regularOrDir)
    {
        if (err == 0)
            return;
        if (err == Errnos.ENOTSUP || (err == Errnos.EPERM && !regularOrDir && key.StartsWith("user.", StringComparison.Ordinal)))
        {
            LayersLog.XattrIgnored(_logger, _layer, entry.Name, key, Errnos.Describe(err));
            return;
        }
        throw new ErrnoException($"setxattr {key}", entry.Name, err);
    }

    private void SetTimes(SafeDirectoryHandle parent, string name, DateTimeOffset? atime, DateTimeOffset mtime)
    {
        var (aSec, aNsec, mSec, mNsec) = ToTimespecs(atime, mtime);
        Sys.UtimensAt(parent, name, aSec, aNsec, mSec, mNsec);
    }

    private static (nint ASec, nint ANsec, nint MSec, nint MNsec) ToTimespecs(DateTimeOffset? atime, DateTimeOffset mtime)
    {
        // As containerd: atime is never older than mtime, and times before the epoch or beyond what
        // time_t holds (2038 with arm's 32-bit time_t) become the epoch.
        var a = atime is { } at && at > mtime ? at : mtime;
        var (aSec, aNsec) = Clamp(a);
        var (mSec, mNsec) = Clamp(mtime);
        return (aSec, aNsec, mSec, mNsec);
    }

    private static (nint Sec, nint Nsec) Clamp(DateTimeOffset t)
    {
        long ticks = (t - DateTimeOffset.UnixEpoch).Ticks;
        long seconds = ticks / TimeSpan.TicksPerSecond;
        long nanos = ticks % TimeSpan.TicksPerSecond * 100;
        long max = IntPtr.Size == 4 ? int.MaxValue : long.MaxValue;
        if (ticks < 0 || seconds > max)
            return (0, 0);
        return ((nint)seconds, (nint)nanos);
    }

    private uint Id(long id, TarEntry entry) =>
        id is >= 0 and < uint.MaxValue
            ? (uint)id
            : throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": uid/gid {id} out of range");

    private void ApplyWhiteout(TarEntry entry, string parentPath, string name)
    {
        if (_overlayUpper)
        {
            ApplyOverlayWhiteout(entry, parentPath, name);
            return;
        }
        if (name == OpaqueMarker)
        {
            _resolver.Invalidate();
            var dir = _resolver.ResolveOwned(parentPath);
            if (dir is null)
                return;
            int removed;
            try
            {
                removed = Prune(dir, parentPath);
            }
            finally
            {
                if (!ReferenceEquals(dir, _resolver.Root))
                    dir.Dispose();
            }
            LayersLog.Opaque(_logger, _layer, parentPath, removed);
            return;
        }
        if (WhiteoutTarget(entry, parentPath, name, out string targetPath) is not { } target)
            return;
        var parent = _resolver.Resolve(parentPath, create: false);
        if (parent is null)
            return;
        if (Sys.TryStatAt(parent, target, out _, out _) != 0)
            return;
        RemoveAll(parent, target);
        _resolver.Invalidate();
        LayersLog.Whiteout(_logger, _layer, targetPath);
    }

    /// <summary>
    /// The name a whiteout entry hides, or null when there is nothing to do: an unknown `.wh..wh.`
    /// meta entry (logged), or a path this layer itself created (whiteouts hide lower layers only).
    /// </summary>
    private string? WhiteoutTarget(TarEntry entry, string parentPath, string name, out string targetPath)
    {
        targetPath = "";
        if (name.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
        {
            LayersLog.EntryIgnored(_logger, _layer, entry.Name, "unknown whiteout meta entry");
            return null;
        }
        string target = name[WhiteoutPrefix.Length..];
        if (target.Length == 0 || target == "." || target == "..")
            throw new InvalidInputException($"apply layer {_layer}: entry \"{entry.Name}\": invalid whiteout name");
        targetPath = LayerPath.Join(parentPath, target);
        return _touched.Contains(targetPath) ? null : target;
    }

    /// <summary>
    /// Overlay-upper mode: records the deletion the way overlayfs reads it instead of doing it (the
    /// layers below are not visible here): a 0/0 character device for a whiteout, the opaque xattr
    /// for an opaque marker. What this layer itself created is spared, as in the merged view.
    /// </summary>
    private void ApplyOverlayWhiteout(TarEntry entry, string parentPath, string name)
    {
        if (name == OpaqueMarker)
        {
            // An opaque root cannot be expressed in an upper directory (overlayfs ignores it there).
            if (parentPath.Length == 0)
                throw new LayerNeedsParentException("the layer makes its root directory opaque");
            var dir = _resolver.Resolve(parentPath, create: true)!;
            SetOpaque(dir, parentPath);
            LayersLog.Opaque(_logger, _layer, parentPath, 0);
            return;
        }
        if (WhiteoutTarget(entry, parentPath, name, out string targetPath) is not { } target)
            return;
        var parent = _resolver.Resolve(parentPath, create: true)!;
        int err = Sys.TryMknodAt(parent, target, Sys.S_IFCHR, 0);
        if (err == Errnos.EEXIST)
        {
            // Only an earlier whiteout of this layer can be there (what the layer created is touched).
            return;
        }
        if (err != 0)
            throw new ErrnoException("mknodat", targetPath, err);
        LayersLog.Whiteout(_logger, _layer, targetPath);
    }

    /// <summary>Removes every child of an opaque directory that this layer did not create, recursively.</summary>
    private int Prune(SafeDirectoryHandle dir, string dirPath)
    {
        int removed = 0;
        foreach (var child in Sys.ReadDirectory(dir, dirPath))
        {
            string childPath = LayerPath.Join(dirPath, child.Name);
            if (!_touched.Contains(childPath))
            {
                RemoveAll(dir, child.Name);
                removed++;
                continue;
            }
            if (Sys.TryOpenDirectoryAt(dir, child.Name, out var sub) == 0)
            {
                using (sub)
                    removed += Prune(sub!, childPath);
            }
        }
        return removed;
    }

    /// <summary>Deletes <paramref name="name"/> and, for a real directory, everything below it; symlinks are removed, not followed.</summary>
    private void RemoveAll(SafeDirectoryHandle parent, string name)
    {
        _ct.ThrowIfCancellationRequested();
        int err = Sys.TryUnlinkAt(parent, name, directory: false);
        if (err == 0 || err == Errnos.ENOENT)
            return;
        if (err != Errnos.EISDIR && err != Errnos.EPERM)
            throw new ErrnoException("unlinkat", name, err);
        int open = Sys.TryOpenDirectoryAt(parent, name, out var dir);
        if (open != 0)
            throw new ErrnoException("openat", name, open);
        using (dir)
        {
            foreach (var child in Sys.ReadDirectory(dir!, name))
                RemoveAll(dir!, child.Name);
        }
        err = Sys.TryUnlinkAt(parent, name, directory: true);
        if (err != 0 && err != Errnos.ENOENT)
            throw new ErrnoException("unlinkat", name, err);
    }
}
