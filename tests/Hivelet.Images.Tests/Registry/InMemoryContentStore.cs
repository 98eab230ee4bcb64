using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Registry;

/// <summary>Test double of the content store: blobs in a dictionary, verification like the real one.</summary>
public sealed class InMemoryContentStore : IContentStore
{
    private readonly Dictionary<Digest, byte[]> _blobs = [];

    /// <summary>Partial data a "previous run" left behind, handed to the next writer for that digest.</summary>
    public Dictionary<Digest, byte[]> Partial { get; } = [];

    public int TruncateCount { get; private set; }

    public bool Exists(Digest digest) => _blobs.ContainsKey(digest);

    public long GetSize(Digest digest) => _blobs.TryGetValue(digest, out var b) ? b.Length : throw new NotFoundException($"blob {digest} not found");

    public Stream OpenRead(Digest digest) => _blobs.TryGetValue(digest, out var b) ? new MemoryStream(b, false) : throw new NotFoundException($"blob {digest} not found");

    public IContentWriter OpenWriter(Digest expected, long expectedSize) =>
        new Writer(this, expected, expectedSize, Partial.Remove(expected, out var p) ? p : []);

    public void Put(Digest expected, ReadOnlySpan<byte> content)
    {
        if (!expected.Matches(content))
            throw new DigestMismatchException($"blob {expected}: content does not match");
        _blobs[expected] = content.ToArray();
    }

    public bool Delete(Digest digest) => _blobs.Remove(digest);

    public IEnumerable<Digest> List() => _blobs.Keys.ToList();

    private sealed class Writer(InMemoryContentStore store, Digest expected, long expectedSize, byte[] partial) : IContentWriter
    {
        private readonly MemoryStream _data = new(partial.ToArray()) { Position = partial.Length };

        public Digest Expected => expected;
        public long ExpectedSize => expectedSize;
        public long Offset => _data.Length;

        public void Write(ReadOnlySpan<byte> data) => _data.Write(data);

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            _data.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public void Truncate()
        {
            store.TruncateCount++;
            _data.SetLength(0);
        }

        public void Commit()
        {
            var bytes = _data.ToArray();
            if (bytes.Length != expectedSize || !expected.Matches(bytes))
            {
                _data.SetLength(0);
                throw new DigestMismatchException($"blob {expected}: got {bytes.Length} bytes with digest {Digest.ComputeSha256(bytes)}");
            }
            store._blobs[expected] = bytes;
        }

        public void Dispose() => _data.Dispose();
    }
}
