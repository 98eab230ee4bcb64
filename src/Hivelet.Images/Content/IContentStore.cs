using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>
/// Blobs by digest. Content enters only through a writer that verifies size and digest before it
/// becomes visible; a partial write survives a crash in the ingest area and is resumed by the next
/// <see cref="OpenWriter"/> for the same digest.
/// </summary>
public interface IContentStore
{
    bool Exists(Digest digest);

    /// <summary>Size of a committed blob; throws <see cref="Errors.NotFoundException"/> when absent.</summary>
    long GetSize(Digest digest);

    /// <summary>Opens a committed blob; throws <see cref="Errors.NotFoundException"/> when absent.</summary>
    Stream OpenRead(Digest digest);

    /// <summary>
    /// Starts or resumes the ingest of <paramref name="expected"/>. <see cref="IContentWriter.Offset"/>
    /// tells how many verified-so-far bytes are already there.
    /// </summary>
    IContentWriter OpenWriter(Digest expected, long expectedSize);

    /// <summary>Convenience for small documents (manifests, configs): verify and commit in one go.</summary>
    void Put(Digest expected, ReadOnlySpan<byte> content);

    bool Delete(Digest digest);

    IEnumerable<Digest> List();
}

public interface IContentWriter : IDisposable
{
    Digest Expected { get; }

    long ExpectedSize { get; }

    /// <summary>Bytes already written (after a resume, the size of the partial data found).</summary>
    long Offset { get; }

    /// <summary>Appends at <see cref="Offset"/>; the hash is updated as data arrives.</summary>
    void Write(ReadOnlySpan<byte> data);

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>Throws away partial data (e.g. the server ignored a Range request).</summary>
    void Truncate();

    /// <summary>
    /// Checks size and digest, fsyncs, and atomically moves the blob into place. On mismatch the
    /// partial data is discarded and a <see cref="Errors.DigestMismatchException"/> is thrown.
    /// </summary>
    void Commit();
}
