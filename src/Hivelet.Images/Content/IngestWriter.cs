using System.Security.Cryptography;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Content;

/// <summary>
/// Writes one blob into its ingest directory, hashing as data arrives, and publishes it on
/// <see cref="Commit"/>. Disposing without commit keeps the partial data for a later resume.
/// </summary>
internal sealed class IngestWriter : IContentWriter
{
    private const int RehashBuffer = 1 << 20;

    private readonly StoreRoot _root;
    private readonly Ingest _ingest;
    private readonly ILogger _logger;
    private FileStream? _data;
    private IncrementalHash _hasher;
    private bool _done;

    private IngestWriter(StoreRoot root, Ingest ingest, Digest expected, long expectedSize, ILogger logger)
    {
        _root = root;
        _ingest = ingest;
        _logger = logger;
        Expected = expected;
        ExpectedSize = expectedSize;
        _hasher = expected.CreateHasher();
    }

    public Digest Expected { get; }

    /// <summary>Size in bytes, or -1 when unknown (then only the digest is checked).</summary>
    public long ExpectedSize { get; }

    public long Offset { get; private set; }

    public static IngestWriter Open(StoreRoot root, Digest expected, long expectedSize, TimeSpan lockWait, ILogger logger)
    {
        var ingest = Ingest.TryLock(root.IngestPath(expected), lockWait) ??
            throw new StoreBusyException($"write blob {expected}: already being written by another writer (ingest locked)");
        var writer = new IngestWriter(root, ingest, expected, expectedSize, logger);
        try
        {
            ingest.WriteMetadata(expected, expectedSize);
            writer.OpenData();
            return writer;
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    private void OpenData()
    {
        // No buffering: every Write reaches the file, so Offset is what a crash leaves behind.
        _data = new FileStream(_ingest.DataPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        long length = _data.Length;
        if (length == 0)
        {
            _logger.IngestStarted(Expected.ToString());
            return;
        }
        if (ExpectedSize >= 0 && length > ExpectedSize)
        {
            _logger.OversizedPartialDiscarded(Expected.ToString(), length, ExpectedSize);
            _data.SetLength(0);
            return;
        }
        // Re-hash the partial data: the hash state is not persisted, the bytes are.
        var buffer = new byte[RehashBuffer];
        _data.Position = 0;
        int n;
        while ((n = _data.Read(buffer)) > 0)
            _hasher.AppendData(buffer, 0, n);
        Offset = _data.Position;
        _logger.IngestResumed(Expected.ToString(), Offset, ExpectedSize);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        var stream = CheckWritable(data.Length);
        stream.Write(data);
        _hasher.AppendData(data);
        Offset += data.Length;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        var stream = CheckWritable(data.Length);
        await stream.WriteAsync(data, ct).ConfigureAwait(false);
        _hasher.AppendData(data.Span);
        Offset += data.Length;
    }

    public void Truncate()
    {
        var stream = Stream();
        stream.SetLength(0);
        stream.Position = 0;
        _hasher.Dispose();
        _hasher = Expected.CreateHasher();
        Offset = 0;
    }

    public void Commit()
    {
        var stream = Stream();
        if (ExpectedSize >= 0 && Offset != ExpectedSize)
        {
            // Short data stays for a resume: it may be a connection that ended early.
            throw new DigestMismatchException($"commit blob {Expected}: size mismatch: have {Offset} bytes, expected {ExpectedSize}");
        }
        var actual = Expected.FromHasher(_hasher);
        if (actual != Expected)
        {
            _logger.IngestDigestMismatch(Expected.ToString(), actual.ToString());
            Discard();
            throw new DigestMismatchException($"commit blob {Expected}: digest mismatch: content hashes to {actual}");
        }

        stream.Flush(flushToDisk: true);
        UnixModes.Set(stream.SafeFileHandle, UnixModes.ReadOnlyBlob);
        stream.Dispose();
        _data = null;

        var blobPath = _root.BlobPath(Expected);
        var blobDir = Path.GetDirectoryName(blobPath)!;
        StoreRoot.CreatePrivate(blobDir);
        if (File.Exists(blobPath))
        {
            _logger.BlobAlreadyPresent(Expected.ToString());
        }
        else
        {
            File.Move(_ingest.DataPath, blobPath, overwrite: true);
            Sys.FsyncDirectory(blobDir);
            _logger.BlobCommitted(Expected.ToString(), Offset);
        }
        // A crash before this line leaves an ingest whose blob exists; Repair removes it.
        _ingest.Remove();
        Finish();
    }

    private FileStream CheckWritable(int count)
    {
        var stream = Stream();
        if (ExpectedSize >= 0 && Offset + count > ExpectedSize)
        {
            long offered = Offset + count;
            Discard();
            throw new DigestMismatchException($"write blob {Expected}: got at least {offered} bytes, more than the expected {ExpectedSize}");
        }
        return stream;
    }

    private FileStream Stream()
    {
        if (_done || _data is null)
            throw new ObjectDisposedException(nameof(IngestWriter), $"writer for {Expected} is committed, discarded or disposed");
        return _data;
    }

    private void Discard()
    {
        _data?.Dispose();
        _data = null;
        _ingest.Remove();
        Finish();
    }

    private void Finish()
    {
        _done = true;
        _ingest.Dispose();
    }

    public void Dispose()
    {
        _data?.Dispose();
        _data = null;
        _hasher.Dispose();
        if (!_done)
            Finish();
    }
}
