using System.Collections.Concurrent;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// The fallback where overlayfs is missing or the root cannot be an upper dir (overlay on overlay,
/// NFS): every committed layer is a complete tree, and Prepare copies the parent's tree with
/// <see cref="TreeCopier"/> (reflinks make that cheap on btrfs and xfs). Deletions in an active
/// snapshot are real deletions. Same commit protocol and crash safety as the overlay driver;
/// Remove keeps the overlay driver's rules (children first) so garbage collection is driver-agnostic.
/// </summary>
public sealed class CopySnapshotter : ISnapshotter
{
    public const string DriverName = "copy";

    private readonly SnapshotStore _store;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _active = new(StringComparer.Ordinal);

    public CopySnapshotter(string snapshotsDirectory, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _store = new SnapshotStore(snapshotsDirectory, DriverName, _logger);
    }

    public string Driver => DriverName;

    public string Root => _store.Root;

    public bool Exists(Digest chainId) => _store.Exists(chainId);

    public IEnumerable<Digest> List() => _store.List();

    public IActiveSnapshot Prepare(Digest? parent)
    {
        var subject = parent is { } p ? $"prepare snapshot on {p}" : "prepare base snapshot";
        int parentDepth = 0;
        if (parent is { } pp)
        {
            if (!_store.Exists(pp))
                throw new NotFoundException($"{subject}: parent snapshot not found");
            parentDepth = _store.ReadMeta(pp).Depth;
        }
        Digest[] held = parent is { } h ? [h] : [];
        _store.Acquire(held);
        string? temp = null;
        try
        {
            temp = _store.CreateTemp("layer");
            _active[temp] = true;
            var fs = Path.Combine(temp, SnapshotStore.FsDir);
            if (parent is { } source)
            {
                var copier = TreeCopier.Copy(_store.FsOf(source), fs);
                SnapshotsLog.TreeCopied(_logger, fs, copier.Files, copier.Bytes);
            }
            else
            {
                Sys.MakeDirectory(fs, SnapshotStore.PublicMode);
            }
            var snapshot = new CopyActiveSnapshot(this, _store, _logger, temp, parent, parentDepth);
            SnapshotsLog.Prepared(_logger, Driver, parent?.ToString() ?? "(none)", fs);
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
        finally
        {
            _store.Release(held);
        }
    }

    /// <summary>
    /// containers/&lt;id&gt;/fs: a copy of <paramref name="top"/>'s tree, built in tmp/ and renamed into
    /// place. It persists until <see cref="RemoveContainer"/>; calling again returns the existing one.
    /// </summary>
    public IActiveSnapshot PrepareContainer(string containerId, Digest? top, bool disposable = false)
    {
        SnapshotStore.ValidateContainerId(containerId);
        var subject = $"prepare container snapshot {containerId}";
        var dir = _store.ContainerPath(containerId);
        var existing = _store.ReadContainerMeta(containerId);
        if (existing is not null)
        {
            if (existing.Top != top?.ToString())
                throw new InvalidInputException($"{subject}: it exists on {existing.Top ?? "no image"}, not {top?.ToString() ?? "no image"}");
            return new PersistentContainerSnapshot(Path.Combine(dir, SnapshotStore.FsDir));
        }
        if (top is { } t && !_store.Exists(t))
            throw new NotFoundException($"{subject}: snapshot {t} not found");
        Digest[] held = top is { } h ? [h] : [];
        _store.Acquire(held);
        string? temp = null;
        try
        {
            temp = _store.CreateTemp("container");
            _active[temp] = true;
            var fs = Path.Combine(temp, SnapshotStore.FsDir);
            if (top is { } source)
                TreeCopier.Copy(_store.FsOf(source), fs);
            else
                Sys.MakeDirectory(fs, SnapshotStore.PublicMode);
            _store.WriteContainerMeta(temp, new ContainerSnapshotMetadata { Id = containerId, Top = top?.ToString(), Driver = Driver });
            if (Directory.Exists(dir))
                TreeRemover.Delete(dir);
            int errno = Sys.TryRename(temp, dir, Sys.RENAME_NOREPLACE);
            if (errno != 0)
                throw new ErrnoException("rename", $"{temp}` to `{dir}", errno);
            _active.TryRemove(temp, out _);
            temp = null;
            Sys.FsyncDirectory(_store.ContainersRoot);
            var path = Path.Combine(dir, SnapshotStore.FsDir);
            SnapshotsLog.ContainerPrepared(_logger, containerId, top?.ToString() ?? "(none)", path);
            return new PersistentContainerSnapshot(path);
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
        finally
        {
            _store.Release(held);
        }
    }

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
        File.Delete(Path.Combine(dir, SnapshotStore.MetaFile));
        TreeRemover.Delete(dir);
        SnapshotsLog.ContainerRemoved(_logger, containerId);
        return true;
    }

    /// <summary>Deletes a committed layer; refuses while a child layer, a container or an unpack uses it.</summary>
    public bool Remove(Digest chainId)
    {
        if (!_store.Exists(chainId))
            return false;
        _store.EnsureRemovable(chainId);
        _store.Unpublish(chainId);
        SnapshotsLog.Removed(_logger, chainId.ToString());
        return true;
    }

    public void Repair()
    {
        _store.RepairTemps(path => _active.Keys.Any(a => path == a || path.StartsWith(a + "/", StringComparison.Ordinal)));
        _store.RepairContainers();
        _store.RepairCommitted();
    }

    internal void Finished(CopyActiveSnapshot snapshot) => _active.TryRemove(snapshot.TempDir, out _);
}
