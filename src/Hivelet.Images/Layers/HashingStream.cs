using System.Security.Cryptography;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Layers;

/// <summary>
/// Passes reads through while hashing every byte (sha256): reading a layer's uncompressed tar
/// through it yields the diff_id in the same pass as the unpack.
/// </summary>
public sealed class HashingStream(Stream inner, bool leaveOpen = false) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The sha256 of everything read so far (the stream stays usable).</summary>
    public Digest CurrentDigest() => Digest.FromSha256Hash(_hash.GetCurrentHash());

    /// <summary>Reads and hashes the rest of the stream; returns how many bytes that was.</summary>
    public long Drain()
    {
        var buffer = new byte[81920];
        long total = 0;
        int n;
        while ((n = Read(buffer, 0, buffer.Length)) > 0)
            total += n;
        return total;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        if (n > 0)
        {
            _hash.AppendData(buffer[..n]);
            BytesRead += n;
        }
        return n;
    }

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!leaveOpen)
                inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
