using System.Buffers;
using System.Threading.Channels;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Pulling;

/// <summary>
/// Tees a blob download into the content store and into a reader that unpacks it in the same pass.
/// <see cref="Writer"/> goes to the registry client in place of the ingest writer: every chunk is
/// written to the ingest file first, then gathered into pooled buffers of <see cref="ChunkBytes"/>
/// that go through a bounded queue which <see cref="Reader"/> (another thread) drains. Gathering
/// network reads (often a few KiB each) into large chunks keeps the reader from waking, and its
/// blocking wait from spinning, once per read. The queue bounds memory (at most
/// <see cref="QueueChunks"/> chunks) and slows the download to the unpack's pace. The reader sees end of stream only when the download has every byte (Commit);
/// when the download stops, restarts from zero (a retry the server answered without Range) or fails,
/// the reader gets an <see cref="IOException"/> and <see cref="Broken"/> tells a restart apart.
/// Digest and diff_id are checked by their owners as before; the caller keeps the unpack only when
/// both the download (digest) and the apply (diff_id) succeeded.
/// </summary>
internal sealed class LayerStream : IDisposable
{
    private const int QueueChunks = 16;
    private const int ChunkBytes = 256 * 1024;

    private readonly Channel<Chunk> _queue = Channel.CreateBounded<Chunk>(
        new BoundedChannelOptions(QueueChunks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    private volatile bool _abandoned;
    private volatile bool _broken;
    private long _queued;
    private byte[]? _pending;
    private int _pendingLength;

    public LayerStream(IContentWriter ingest)
    {
        Writer = new TeeWriter(this, ingest);
        Reader = new QueueReadStream(this);
    }

    /// <summary>The ingest writer wrapped: hand this to the download.</summary>
    public IContentWriter Writer { get; }

    /// <summary>The blob's bytes from offset 0, as the download receives them.</summary>
    public Stream Reader { get; }

    /// <summary>The download restarted after bytes had been passed on: what the reader got is not the blob.</summary>
    public bool Broken => _broken;

    /// <summary>Ends the reader with an error unless it already reached the end (download stopped or failed).</summary>
    public void Dispose() => _queue.Writer.TryComplete(new IOException("the download stopped before the blob was complete"));

    private readonly record struct Chunk(byte[] Buffer, int Length);

    private async ValueTask PassOnAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty && !_abandoned && !_broken)
        {
            _pending ??= ArrayPool<byte>.Shared.Rent(ChunkBytes);
            int n = Math.Min(data.Length, _pending.Length - _pendingLength);
            data[..n].CopyTo(_pending.AsMemory(_pendingLength));
            _pendingLength += n;
            data = data[n..];
            if (_pendingLength == _pending.Length)
                await FlushAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Queues what was gathered so far (a full chunk, or the tail at the end of the blob).</summary>
    private async ValueTask FlushAsync(CancellationToken ct)
    {
        if (_pending is not { } buffer)
            return;
        int length = _pendingLength;
        _pending = null;
        _pendingLength = 0;
        if (length == 0 || _abandoned || _broken)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        try
        {
            await _queue.Writer.WriteAsync(new Chunk(buffer, length), ct).ConfigureAwait(false);
            _queued += length;
        }
        catch (ChannelClosedException)
        {
            // The reader gave up (its apply failed); the download goes on into the ingest file only.
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void DropPending()
    {
        if (_pending is { } buffer)
            ArrayPool<byte>.Shared.Return(buffer);
        _pending = null;
        _pendingLength = 0;
    }

    private void Restarted()
    {
        // Bytes only gathered, never queued, did not reach the reader: a restart from zero is harmless.
        DropPending();
        if (_queued == 0 || _broken)
            return;
        _broken = true;
        _queue.Writer.TryComplete(new IOException("the download restarted from the beginning"));
    }

    /// <summary>The reader is done (finished or failed): stop queueing and free what is queued.</summary>
    private void Abandon()
    {
        _abandoned = true;
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var chunk))
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
    }

    private sealed class TeeWriter(LayerStream owner, IContentWriter inner) : IContentWriter
    {
        public Digest Expected => inner.Expected;

        public long ExpectedSize => inner.ExpectedSize;

        public long Offset => inner.Offset;

        public void Write(ReadOnlySpan<byte> data)
        {
            inner.Write(data);
            owner.PassOnAsync(data.ToArray(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            await inner.WriteAsync(data, ct).ConfigureAwait(false);
            await owner.PassOnAsync(data, ct).ConfigureAwait(false);
        }

        public void Truncate()
        {
            inner.Truncate();
            owner.Restarted();
        }

        public void Commit()
        {
            // Every byte is in: the reader may finish (and check the diff_id) while the blob is verified and synced.
            if (!owner._broken)
            {
                owner.FlushAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                owner._queue.Writer.TryComplete();
            }
            inner.Commit();
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class QueueReadStream(LayerStream owner) : Stream
    {
        private Chunk _current;
        private int _position;
        private bool _ended;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty)
                return 0;
            while (_current.Buffer is null || _position == _current.Length)
            {
                Release();
                if (_ended)
                    return 0;
                if (!owner._queue.Reader.TryRead(out var next))
                {
                    bool more;
                    try
                    {
                        more = owner._queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
                    }
                    catch (ChannelClosedException e) when (e.InnerException is IOException inner)
                    {
                        throw new IOException(inner.Message, inner);
                    }
                    if (!more)
                    {
                        _ended = true;
                        return 0;
                    }
                    continue;
                }
                _current = next;
                _position = 0;
            }
            int n = Math.Min(buffer.Length, _current.Length - _position);
            _current.Buffer.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        private void Release()
        {
            if (_current.Buffer is not null)
                ArrayPool<byte>.Shared.Return(_current.Buffer);
            _current = default;
            _position = 0;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Release();
                owner.Abandon();
            }
            base.Dispose(disposing);
        }
    }
}
