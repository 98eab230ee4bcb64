using Hivelet.Images.Oci;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Snapshots;

/// <summary>An unpack in progress for the copy driver: tmp/&lt;pid&gt;-layer-&lt;random&gt;/fs, a full tree.</summary>
internal sealed class CopyActiveSnapshot(
    CopySnapshotter owner, SnapshotStore store, ILogger logger, string tempDir, Digest? parent, int parentDepth)
    : IActiveSnapshot
{
    private readonly Lock _gate = new();
    private bool _committed;
    private bool _disposed;

    public string Path { get; } = System.IO.Path.Combine(tempDir, SnapshotStore.FsDir);

    public string TempDir { get; } = tempDir;

    public void Commit(Digest chainId)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed)
                throw new InvalidOperationException("snapshot already committed");
            var meta = new SnapshotMetadata
            {
                ChainId = chainId.ToString(),
                Parent = parent?.ToString(),
                Depth = parentDepth + 1,
                Driver = store.Driver,
            };
            bool published = store.Publish(TempDir, chainId, meta);
            _committed = true;
            owner.Finished(this);
            if (published)
            {
                SnapshotsLog.Committed(logger, store.Driver, chainId.ToString());
                return;
            }
            TreeRemover.Delete(TempDir);
            SnapshotsLog.AlreadyCommitted(logger, chainId.ToString());
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_committed)
                return;
            TreeRemover.Delete(TempDir);
            owner.Finished(this);
            SnapshotsLog.Discarded(logger, TempDir);
        }
    }
}
