using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// An unpack in progress: tmp/&lt;pid&gt;-layer-&lt;random&gt;/{fs, work, merged}. With a parent, the
/// overlay lives in the private mount namespace of <see cref="_worker"/> and <see cref="Path"/> reaches
/// it through /proc/PID/task/TID/root; a base layer is written straight into fs.
/// </summary>
internal sealed class OverlayActiveSnapshot : IActiveSnapshot
{
    private readonly OverlaySnapshotter _owner;
    private readonly SnapshotStore _store;
    private readonly ILogger _logger;
    private readonly Digest? _parent;
    private readonly int _parentDepth;
    private readonly IReadOnlyList<Digest> _chain;
    private readonly Lock _gate = new();
    private SnapshotWorker? _worker;
    private bool _committed;
    private bool _disposed;

    public OverlayActiveSnapshot(OverlaySnapshotter owner, SnapshotStore store, ILogger logger, string tempDir,
        Digest? parent, int parentDepth, IReadOnlyList<Digest> chain, SnapshotWorker? worker, string path)
    {
        _owner = owner;
        _store = store;
        _logger = logger;
        TempDir = tempDir;
        _parent = parent;
        _parentDepth = parentDepth;
        _chain = chain;
        _worker = worker;
        Path = path;
    }

    public string Path { get; }

    public string TempDir { get; }

    private string Merged => System.IO.Path.Combine(TempDir, "merged");

    public void Commit(Digest chainId)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed)
                throw new InvalidOperationException("snapshot already committed");
            var subject = $"commit snapshot {chainId}";
            if (_worker is not null)
            {
                var merged = Merged;
                int errno = _worker.Invoke(() => Sys.TryUnmount(merged, 0));
                if (errno == Errnos.EBUSY)
                    throw new HiveletException($"{subject}: `{Path}` is still in use (an open file or a process inside it)");
                if (errno != 0)
                    throw new HiveletException(subject, new ErrnoException("umount", merged, errno));
                _worker.Dispose();
                _worker = null;
            }
            TreeRemover.Delete(System.IO.Path.Combine(TempDir, "work"));
            TreeRemover.Delete(Merged);
            int parentDepth = _parentDepth < 0 ? DetachedParentDepth(subject) : _parentDepth;

            var link = _owner.ReserveLink(chainId);
            var meta = new SnapshotMetadata
            {
                ChainId = chainId.ToString(),
                Parent = _parent?.ToString(),
                Depth = parentDepth + 1,
                Link = link,
                Driver = _store.Driver,
            };
            bool published;
            try
            {
                published = _store.Publish(TempDir, chainId, meta);
            }
            catch
            {
                _owner.DropLink(link);
                throw;
            }
            _committed = true;
            _owner.Finished(this, _chain);
            if (published)
            {
                SnapshotsLog.Committed(_logger, _store.Driver, chainId.ToString());
                return;
            }
            _owner.DropLink(link);
            TreeRemover.Delete(TempDir);
            SnapshotsLog.AlreadyCommitted(_logger, chainId.ToString());
        }
    }

    /// <summary>A detached snapshot (parent depth -1) learns its parent's depth at commit, when the parent must exist.</summary>
    private int DetachedParentDepth(string subject)
    {
        if (_parent is not { } parent)
            return 0;
        if (!_store.Exists(parent))
            throw new NotFoundException($"{subject}: parent snapshot {parent} is not committed");
        int depth = _store.ReadMeta(parent).Depth;
        if (depth >= OverlayMount.MaxDepth)
            throw new InvalidInputException($"{subject}: a chain of {depth + 1} layers is deeper than the overlay driver's maximum of {OverlayMount.MaxDepth}");
        return depth;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_worker is not null)
            {
                var merged = Merged;
                _worker.Invoke(() => Sys.TryUnmount(merged, Sys.MNT_DETACH));
                // Stopping the worker ends its mount namespace: nothing can stay mounted after this.
                _worker.Dispose();
                _worker = null;
            }
            if (_committed)
                return;
            TreeRemover.Delete(TempDir);
            _owner.Finished(this, _chain);
            SnapshotsLog.Discarded(_logger, TempDir);
        }
    }
}
