using System.Collections.Concurrent;
using System.Security.Cryptography;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// Layers as overlayfs upper directories (whiteouts are 0/0 character devices, opaque directories
/// carry trusted.overlay.opaque). Unpack mounts live in a private mount namespace per active snapshot
/// (see <see cref="SnapshotWorker"/>), so a killed unpack leaves only a temp directory that
/// <see cref="Repair"/> deletes. Container mounts are ordinary host mounts because other processes use
/// them. Chains are limited to <see cref="OverlayMount.MaxDepth"/> layers.
/// <para>
/// Concurrency: safe for concurrent use inside one process. Removing a layer that another process is
/// unpacking onto is not detected; the garbage collector should run in the daemon that owns the root.
/// </para>
/// </summary>
public sealed class OverlaySnapshotter : ISnapshotter
{
    public const string DriverName = "overlayfs";
    private const string LinkAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly SnapshotStore _store;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _active = new(StringComparer.Ordinal);

    /// <param name="snapshotsDirectory">The directory this driver owns (e.g. &lt;root&gt;/snapshots).</param>
    public OverlaySnapshotter(string snapshotsDirectory, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _store = new SnapshotStore(snapshotsDirectory, DriverName, _logger);
        Directory.CreateDirectory(_store.LinksRoot);
    }

    public string Driver => DriverName;

    public string Root => _store.Root;

    public bool Exists(Digest chainId) => _store.Exists(chainId);

    public IEnumerable<Digest> List() => _store.List();

    /// <summary>
    /// Base layer: Path is the empty upper dir itself. Otherwise Path is the merged overlay view (a
    /// /proc/PID/task/TID/root/... path usable from any thread of this process; do not canonicalise it).
    /// Deleting through it records whiteouts; recreating a deleted directory makes it opaque.
    /// </summary>
    public IActiveSnapshot Prepare(Digest? parent)
    {
        var subject = parent is { } p ? $"prepare snapshot on {p}" : "prepare base snapshot";
        IReadOnlyList<(Digest ChainId, SnapshotMetadata Meta)> chain = [];
        if (parent is { } pp)
        {
            if (!_store.Exists(pp))
                throw new NotFoundException($"{subject}: parent snapshot not found");
            chain = _store.Chain(pp);
            if (chain.Count >= OverlayMount.MaxDepth)
                throw new InvalidInputException($"{subject}: a chain of {chain.Count + 1} layers is deeper than the overlay driver's maximum of {OverlayMount.MaxDepth}");
        }
        var ids = chain.Select(c => c.ChainId).ToList();
        _store.Acquire(ids);
        string? temp = null;
        SnapshotWorker? worker = null;
        try
        {
            temp = _store.CreateTemp("layer");
            _active[temp] = true;
            Sys.MakeDirectory(Path.Combine(temp, SnapshotStore.FsDir), SnapshotStore.PublicMode);
            string path = Path.Combine(temp, SnapshotStore.FsDir);
            if (chain.Count > 0)
            {
                var lowers = chain.Select(c => EnsureLink(c.ChainId, c.Meta)).ToList();
                Sys.MakeDirectory(Path.Combine(temp, "work"), SnapshotStore.PrivateMode);
                var merged = Path.Combine(temp, "merged");
                Sys.MakeDirectory(merged, SnapshotStore.PublicMode);
                var rel = Path.GetRelativePath(_store.Root, temp);
                worker = SnapshotWorker.Start("hivelet-snapshot", privateMountNamespace: true, _store.Root);
                worker.Invoke(() => OverlayMount.Mount(merged, lowers, rel + "/fs", rel + "/work", subject));
                path = worker.RootPath + merged;
                SnapshotsLog.OverlayMounted(_logger, lowers.Count, merged);
            }
            var snapshot = new OverlayActiveSnapshot(this, _store, _logger, temp, parent,
                chain.Count > 0 ? chain[0].Meta.Depth : 0, ids, worker, path);
            SnapshotsLog.Prepared(_logger, Driver, parent?.ToString() ?? "(none)", path);
            return snapshot;
        }
        catch (Exception e)
        {
            worker?.Dispose();
            if (temp is not null)
            {
                TreeRemover.Delete(temp);
                _active.TryRemove(temp, out _);
            }
            _store.Release(ids);
            if (e is HiveletException)
                throw;
            throw new HiveletException(subject, e);
        }
    }

    public bool SupportsDetached => true;

    /// <summary>
    /// The empty upper directory tmp/&lt;pid&gt;-layer-&lt;random&gt;/fs, with no mount: the layer is
    /// written as overlay whiteouts and opaque xattrs (see LayerApplyOptions.OverlayUpper), so it
    /// needs nothing of its parent until <see cref="IActiveSnapshot.Commit"/>, which requires the
    /// parent committed. Lets a pull apply its layers side by side and commit them in chain order.
    /// </summary>
    public IActiveSnapshot PrepareDetached(Digest? parent)
    {
        var subject = parent is { } p ? $"prepare snapshot on {p}" : "prepare base snapshot";
        string? temp = null;
        try
        {
            temp = _store.CreateTemp("layer");
            _active[temp] = true;
            string path = Path.Combine(temp, SnapshotStore.FsDir);
            Sys.MakeDirectory(path, SnapshotStore.PublicMode);
            var snapshot = new OverlayActiveSnapshot(this, _store, _logger, temp, parent, parentDepth: -1, [], worker: null, path);
            SnapshotsLog.Prepared(_logger, Driver, parent?.ToString() ?? "(none)", path);
            return snapshot;
        }
        catch (Exception e)
        {
            if (temp is not null)
            {
                TreeRemover.Delete(temp);
                _active.TryRemove(temp, out _);
            }
            if (e is HiveletException)
                throw;
            throw new HiveletException(subject, e);
        }
    }

    /// <summary>
    /// Creates (or, after a reboot, mounts again) containers/&lt;id&gt;/merged: an overlay of
    /// <paramref name="top"/>'s chain with the container's own upper dir. It is a host mount, visible to
    /// other processes, and stays until <see cref="RemoveContainer"/>; disposing the handle keeps it.
    /// With no <paramref name="top"/> the Path is the plain upper directory.
    /// </summary>
    public IActiveSnapshot PrepareContainer(string containerId, Digest? top, bool disposable = false)
    {
        SnapshotStore.ValidateContainerId(containerId);
        var subject = $"prepare container snapshot {containerId}";
        var dir = _store.ContainerPath(containerId);
        var merged = Path.Combine(dir, "merged");
        var existing = _store.ReadContainerMeta(containerId);
        if (existing is not null && existing.Top != top?.ToString())
            throw new InvalidInputException($"{subject}: it exists on {existing.Top ?? "no image"}, not {top?.ToString() ?? "no image"}");
        IReadOnlyList<(Digest ChainId, SnapshotMetadata Meta)> chain = [];
        if (top is { } t)
        {
            if (!_store.Exists(t))
                throw new NotFoundException($"{subject}: snapshot {t} not found");
            chain = _store.Chain(t);
        }
        try
        {
            if (existing is null)
            {
                if (Directory.Exists(dir))
                    DeleteContainerDirectory(dir);
                Sys.MakeDirectory(dir, SnapshotStore.PrivateMode);
                Sys.MakeDirectory(Path.Combine(dir, SnapshotStore.FsDir), SnapshotStore.PublicMode);
                Sys.MakeDirectory(Path.Combine(dir, "work"), SnapshotStore.PrivateMode);
                Sys.MakeDirectory(merged, SnapshotStore.PublicMode);
                existing = new ContainerSnapshotMetadata { Id = containerId, Top = top?.ToString(), Driver = Driver, Volatile = disposable };
                _store.WriteContainerMeta(dir, existing);
            }
            if (chain.Count == 0)
                return new PersistentContainerSnapshot(Path.Combine(dir, SnapshotStore.FsDir));
            if (!MountTable.IsMountPoint(merged))
            {
                var lowers = chain.Select(c => EnsureLink(c.ChainId, c.Meta)).ToList();
                var rel = Path.GetRelativePath(_store.Root, dir);
                // Host mount namespace, private working directory: relative lowerdirs keep options short.
                bool asked = existing.Volatile, got = false;
                using (var worker = SnapshotWorker.Start("hivelet-mount", privateMountNamespace: false, _store.Root))
                    worker.Invoke(() => got = OverlayMount.Mount(merged, lowers, rel + "/fs", rel + "/work", subject, asked));
                if (got != asked)
                {
                    // The kernel refused `volatile`: the metadata says what is mounted (a run template copies it).
                    existing.Volatile = got;
                    _store.WriteContainerMeta(dir, existing);
                }
            }
            SnapshotsLog.ContainerPrepared(_logger, containerId, top?.ToString() ?? "(none)", merged);
            return new PersistentContainerSnapshot(merged);
        }
        catch (Exception e) when (e is not HiveletException)
        {
            throw new HiveletException(subject, e);
        }
    }

    public ContainerSnapshotReplay? DescribeContainer(string containerId)
    {
        SnapshotStore.ValidateContainerId(containerId);
        var meta = _store.ReadContainerMeta(containerId);
        if (meta?.Top is null || !Digest.TryParse(meta.Top, out var top, out _) || !_store.Exists(top))
            return null;
        var dir = _store.ContainerPath(containerId);
        var lowers = _store.Chain(top).Select(c => EnsureLink(c.ChainId, c.Meta)).ToList();
        var rel = Path.GetRelativePath(_store.Root, dir);
        var metaPath = Path.Combine(dir, SnapshotStore.MetaFile);
        return new ContainerSnapshotReplay(
            dir,
            [
                (dir, SnapshotStore.PrivateMode),
                (Path.Combine(dir, SnapshotStore.FsDir), SnapshotStore.PublicMode),
                (Path.Combine(dir, "work"), SnapshotStore.PrivateMode),
                (Path.Combine(dir, "merged"), SnapshotStore.PublicMode),
            ],
            metaPath,
            File.ReadAllBytes(metaPath),
            Sys.LStat(metaPath).Permissions,
            _store.Root,
            Path.Combine(dir, "merged"),
            OverlayMount.PreferredOptions(lowers, rel + "/" + SnapshotStore.FsDir, rel + "/work", meta.Volatile),
            lowers.Select(l => Path.Combine(_store.Root, l)).ToList());
    }

    /// <summary>Unmounts and deletes a container snapshot; false when there is none.</summary>
    public string? ContainerChangesPath(string containerId)
    {
        SnapshotStore.ValidateContainerId(containerId);
        var fs = Path.Combine(_store.ContainerPath(containerId), SnapshotStore.FsDir);
        return Directory.Exists(fs) ? fs : null;
    }

    public bool RemoveContainer(string containerId)
    {
        SnapshotStore.ValidateContainerId(containerId);
        var dir = _store.ContainerPath(containerId);
        if (!Directory.Exists(dir))
            return false;
        DeleteContainerDirectory(dir);
        SnapshotsLog.ContainerRemoved(_logger, containerId);
        return true;
    }

    private void DeleteContainerDirectory(string dir)
    {
        foreach (var mount in MountTable.MountPointsUnder(dir))
        {
            int errno = Sys.TryUnmount(mount, 0);
            if (errno == Errnos.EBUSY)
            {
                SnapshotsLog.UnmountBusy(_logger, mount);
                Sys.Unmount(mount, Sys.MNT_DETACH);
            }
            else if (errno is not (0 or Errnos.EINVAL or Errnos.ENOENT))
            {
                throw new ErrnoException("umount", mount, errno);
            }
        }
        // meta.json first: a crash mid-delete leaves an incomplete directory that Repair finishes.
        File.Delete(Path.Combine(dir, SnapshotStore.MetaFile));
        TreeRemover.Delete(dir);
    }

    /// <summary>
    /// Deletes a committed layer. Refuses (<see cref="SnapshotInUseException"/>) while another layer,
    /// a container or an unpack of this process builds on it: garbage collection removes children first.
    /// </summary>
    public bool Remove(Digest chainId)
    {
        if (!_store.Exists(chainId))
            return false;
        _store.EnsureRemovable(chainId);
        var meta = _store.ReadMeta(chainId);
        _store.Unpublish(chainId);
        if (meta.Link is not null)
            DropLink(meta.Link);
        SnapshotsLog.Removed(_logger, chainId.ToString());
        return true;
    }

    /// <summary>
    /// Removes what killed unpacks left in tmp/ (detaching stale mounts first), incomplete container
    /// directories and dangling l/ links. Safe to run while this instance has unpacks in progress.
    /// </summary>
    public void Repair()
    {
        _store.RepairTemps(IsActivePath);
        _store.RepairContainers();
        _store.RepairCommitted();
        foreach (var link in Directory.EnumerateFileSystemEntries(_store.LinksRoot))
        {
            if (Sys.TryLStat(link, out var st) != 0 || !st.IsSymlink || !Directory.Exists(link))
            {
                File.Delete(link);
                SnapshotsLog.RepairRemovedLink(_logger, link);
            }
        }
    }

    private bool IsActivePath(string path) =>
        _active.Keys.Any(a => path == a || path.StartsWith(a + "/", StringComparison.Ordinal));

    internal void Finished(OverlayActiveSnapshot snapshot, IReadOnlyList<Digest> chain)
    {
        if (_active.TryRemove(snapshot.TempDir, out _))
            _store.Release(chain);
    }

    /// <summary>Creates l/&lt;new short name&gt; pointing at the layer's future fs directory.</summary>
    internal string ReserveLink(Digest chainId)
    {
        var target = $"../{SnapshotStore.DirectoryName(chainId)}/{SnapshotStore.FsDir}";
        for (int attempt = 0; attempt < 16; attempt++)
        {
            var name = RandomNumberGenerator.GetString(LinkAlphabet, 8);
            int errno = Sys.TrySymlink(target, Path.Combine(_store.LinksRoot, name));
            if (errno == 0)
                return name;
            if (errno != Errnos.EEXIST)
                throw new ErrnoException("symlink", Path.Combine(_store.LinksRoot, name), errno);
        }
        throw new HiveletException($"commit snapshot {chainId}: no free short link name in {_store.LinksRoot}");
    }

    internal void DropLink(string name)
    {
        var path = Path.Combine(_store.LinksRoot, name);
        if (Sys.TryLStat(path, out var st) == 0 && st.IsSymlink)
            File.Delete(path);
    }

    /// <summary>The relative lowerdir for a layer ("l/abcd1234"), recreating its link if a crash lost it.</summary>
    private string EnsureLink(Digest chainId, SnapshotMetadata meta)
    {
        if (meta.Link is null || meta.Link.Length == 0 || meta.Link.Contains('/', StringComparison.Ordinal))
            throw new InvalidInputException($"snapshot {chainId}: metadata has no valid short link name");
        var path = Path.Combine(_store.LinksRoot, meta.Link);
        var target = $"../{SnapshotStore.DirectoryName(chainId)}/{SnapshotStore.FsDir}";
        int errno = Sys.TryLStat(path, out var st);
        if (errno == Errnos.ENOENT)
        {
            errno = Sys.TrySymlink(target, path);
            if (errno != 0 && errno != Errnos.EEXIST)
                throw new ErrnoException("symlink", path, errno);
        }
        else if (errno != 0)
        {
            throw new ErrnoException("statx", path, errno);
        }
        else if (!st.IsSymlink)
        {
            throw new HiveletException($"snapshot {chainId}: `{path}` is not a symlink");
        }
        if (Sys.ReadLink(path) != target)
            throw new HiveletException($"snapshot {chainId}: short link `{path}` points elsewhere");
        return "l/" + meta.Link;
    }
}
