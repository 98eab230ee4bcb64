using System.Text;
using Hivelet.Errors;

namespace Hivelet.Images.Layers;

/// <summary>
/// A forward-only tar reader for image layers: ustar, GNU (L/K long names, base-256 numbers) and PAX
/// (local 'x' records kept losslessly, binary xattr values included; global 'g' ignored). It never
/// seeks and holds at most one PAX header (capped) plus its read buffer in memory. Written here
/// because System.Formats.Tar decodes xattr values as text and rejects or mangles sparse entries.
/// </summary>
public sealed partial class TarReader : IDisposable
{
    public const int BlockSize = 512;

    /// <summary>Largest PAX extended header accepted; real ones are a few hundred bytes.</summary>
    public const int MaxPaxHeaderSize = 1 << 20;

    /// <summary>Longest path or link name accepted (PATH_MAX).</summary>
    public const int MaxNameLength = 4096;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _buffer;
    private int _bufPos;
    private int _bufLen;
    private long _offset;
    private long _remaining;
    private int _padding;
    private bool _done;
    private TarEntry? _current;
    private EntryDataStream? _dataStream;

    public TarReader(Stream stream, bool leaveOpen = false, int bufferSize = 128 * 1024)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, BlockSize * 2);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _buffer = new byte[bufferSize - bufferSize % BlockSize];
    }

    /// <summary>The entry returned by the last <see cref="GetNextEntry"/>.</summary>
    public TarEntry? Current => _current;

    /// <summary>Bytes of the current entry's data not read yet.</summary>
    public long RemainingData => _remaining;

    /// <summary>Reads the current entry's data; a stream view of <see cref="ReadData"/>. Not disposable-owned.</summary>
    public Stream DataStream => _dataStream ??= new EntryDataStream(this);

    /// <summary>
    /// Advances to the next entry, skipping unread data of the current one. Returns null at the
    /// end-of-archive marker. Throws <see cref="InvalidInputException"/> for a corrupt, truncated or
    /// unsupported archive.
    /// </summary>
    public TarEntry? GetNextEntry()
    {
        if (_done)
            return null;
        SkipData();
        _current = null;

        var ext = new PendingExtensions();
        while (true)
        {
            long headerOffset = _offset;
            if (!TryReadBlock(out var block))
                throw Corrupt(headerOffset, null, "archive is truncated: no end-of-archive marker");

            if (IsZero(block))
            {
                if (ext.Any)
                    throw Corrupt(headerOffset, ext.Path, "extension header is followed by the end-of-archive marker");
                // Like Go's archive/tar, a lone zero block at the very end is accepted as the end.
                if (TryReadBlock(out var second) && !IsZero(second))
                    throw Corrupt(headerOffset, null, "zero block in the middle of the archive");
                _done = true;
                return null;
            }

            VerifyChecksum(block, headerOffset);
            byte type = block[156];
            long size = ParseNumeric(block.Slice(124, 12), headerOffset, "size");
            if (size < 0)
                throw Corrupt(headerOffset, HeaderName(block), $"negative size {size}");

            switch (type)
            {
                case (byte)'x':
                    if (size > MaxPaxHeaderSize)
                        throw Corrupt(headerOffset, ext.Path ?? HeaderName(block), $"PAX header of {size} bytes exceeds the limit of {MaxPaxHeaderSize}");
                    ParsePax(ReadExtensionData((int)size), ref ext, headerOffset);
                    continue;
                case (byte)'g':
                    if (size > MaxPaxHeaderSize)
                        throw Corrupt(headerOffset, null, $"PAX global header of {size} bytes exceeds the limit of {MaxPaxHeaderSize}");
                    ReadExtensionData((int)size);
                    continue;
                case (byte)'L':
                case (byte)'K':
                    if (size > MaxNameLength + 1)
                        throw Corrupt(headerOffset, ext.Path, $"GNU long name of {size} bytes exceeds the limit of {MaxNameLength}");
                    var text = DecodeCString(ReadExtensionData((int)size));
                    if (type == 'L')
                        ext.GnuLongName = text;
                    else
                        ext.GnuLongLink = text;
                    continue;
            }

            var entry = BuildEntry(block, type, size, ref ext, headerOffset);
            // As in Go's archive/tar, links, devices, fifos and directories have no data area whatever
            // their size field says; only a GNU dumpdir ('D') carries data, which is skipped.
            long dataSize = entry.Type == TarEntryType.File ? entry.Size : type == 'D' ? size : 0;
            _remaining = entry.Type == TarEntryType.File ? dataSize : 0;
            _padding = (int)((BlockSize - dataSize % BlockSize) % BlockSize);
            if (entry.Type != TarEntryType.File && dataSize > 0)
            {
                Skip(dataSize + _padding, entry.Name);
                _padding = 0;
            }
            _current = entry;
            return entry;
        }
    }

    /// <summary>Reads data of the current entry; 0 when it is exhausted.</summary>
    public int ReadData(Span<byte> destination)
    {
        if (_remaining == 0 || destination.IsEmpty)
            return 0;
        int want = (int)Math.Min(destination.Length, _remaining);
        int available = _bufLen - _bufPos;
        int n;
        if (available > 0)
        {
            n = Math.Min(want, available);
            _buffer.AsSpan(_bufPos, n).CopyTo(destination);
            _bufPos += n;
        }
        else if (want >= _buffer.Length / 2)
        {
            // Large reads bypass the buffer: one copy less on the hot path.
            n = _stream.Read(destination[..want]);
            if (n == 0)
                throw Truncated();
        }
        else
        {
            if (!Fill(1))
                throw Truncated();
            n = Math.Min(want, _bufLen - _bufPos);
            _buffer.AsSpan(_bufPos, n).CopyTo(destination);
            _bufPos += n;
        }
        _remaining -= n;
        _offset += n;
        return n;
    }

    /// <summary>Skips the rest of the current entry's data and its padding.</summary>
    public void SkipData()
    {
        long total = _remaining + _padding;
        _remaining = 0;
        _padding = 0;
        if (total > 0)
            Skip(total, _current?.Name);
    }

    public void Dispose()
    {
        if (!_leaveOpen)
            _stream.Dispose();
    }

    private InvalidInputException Truncated() =>
        new($"read tar: entry \"{_current?.Name}\": archive is truncated at offset {_offset}");

    private static InvalidInputException Corrupt(long offset, string? name, string cause) =>
        name is null
            ? new InvalidInputException($"read tar: header at offset {offset}: {cause}")
            : new InvalidInputException($"read tar: entry \"{name}\": {cause}");

    private bool TryReadBlock(out ReadOnlySpan<byte> block)
    {
        if (!Fill(BlockSize))
        {
            if (_bufLen - _bufPos != 0)
                throw Corrupt(_offset, null, "archive is truncated inside a header");
            block = default;
            return false;
        }
        block = _buffer.AsSpan(_bufPos, BlockSize);
        _bufPos += BlockSize;
        _offset += BlockSize;
        return true;
    }

    /// <summary>Ensures <paramref name="count"/> buffered bytes; false at end of stream.</summary>
    private bool Fill(int count)
    {
        if (_bufLen - _bufPos >= count)
            return true;
        if (_bufPos > 0)
        {
            Buffer.BlockCopy(_buffer, _bufPos, _buffer, 0, _bufLen - _bufPos);
            _bufLen -= _bufPos;
            _bufPos = 0;
        }
        while (_bufLen < count)
        {
            int n = _stream.Read(_buffer, _bufLen, _buffer.Length - _bufLen);
            if (n == 0)
                return false;
            _bufLen += n;
        }
        return true;
    }

    private void Skip(long count, string? name)
    {
        while (count > 0)
        {
            if (_bufLen == _bufPos && !Fill(1))
                throw new InvalidInputException($"read tar: entry \"{name}\": archive is truncated at offset {_offset}");
            int n = (int)Math.Min(count, _bufLen - _bufPos);
            _bufPos += n;
            _offset += n;
            count -= n;
        }
    }

    /// <summary>Reads a (small, capped) extension header's data plus padding.</summary>
    private byte[] ReadExtensionData(int size)
    {
        var data = new byte[size];
        int done = 0;
        while (done < size)
        {
            if (_bufLen == _bufPos && !Fill(1))
                throw Corrupt(_offset, null, "archive is truncated inside an extension header");
            int n = Math.Min(size - done, _bufLen - _bufPos);
            _buffer.AsSpan(_bufPos, n).CopyTo(data.AsSpan(done));
            _bufPos += n;
            _offset += n;
            done += n;
        }
        Skip((BlockSize - size % BlockSize) % BlockSize, null);
        return data;
    }

    private static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

    private static void VerifyChecksum(ReadOnlySpan<byte> block, long offset)
    {
        long unsigned = 0, signed = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        long stored;
        try
        {
            stored = ParseOctal(block.Slice(148, 8));
        }
        catch (FormatException)
        {
            throw Corrupt(offset, null, "header checksum field is not a number (corrupt archive)");
        }
        if (stored != unsigned && stored != signed)
            throw Corrupt(offset, null, $"header checksum mismatch: stored {stored}, computed {unsigned} (corrupt archive)");
    }

    private static string HeaderName(ReadOnlySpan<byte> block) => DecodeCString(block[..100]);

    private static string DecodeCString(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? field[..nul] : field);
    }

    private static long ParseNumeric(ReadOnlySpan<byte> field, long offset, string what)
    {
        try
        {
            return (field[0] & 0x80) != 0 ? ParseBase256(field) : ParseOctal(field);
        }
        catch (FormatException e)
        {
            throw Corrupt(offset, null, $"invalid {what} field: {e.Message}");
        }
    }

    /// <summary>GNU/star base-256: high bit set, big-endian two's complement in the remaining bits.</summary>
    private static long ParseBase256(ReadOnlySpan<byte> field)
    {
        byte inv = (field[0] & 0x40) != 0 ? (byte)0xFF : (byte)0;
        ulong x = 0;
        for (int i = 0; i < field.Length; i++)
        {
            byte c = (byte)(field[i] ^ inv);
            if (i == 0)
                c &= 0x7F;
            if ((x >> 56) > 0)
                throw new FormatException("base-256 number overflows 64 bits");
            x = (x << 8) | c;
        }
        if ((x >> 63) > 0)
            throw new FormatException("base-256 number overflows 64 bits");
        return inv == 0xFF ? ~(long)x : (long)x;
    }

    private static long ParseOctal(ReadOnlySpan<byte> field)
    {
        field = field.Trim((byte)' ').Trim((byte)0).Trim((byte)' ');
        long value = 0;
        foreach (byte c in field)
        {
            if (c is < (byte)'0' or > (byte)'7')
                throw new FormatException($"unexpected byte 0x{c:x2} in octal number");
            if (value > (long.MaxValue >> 3))
                throw new FormatException("octal number overflows 64 bits");
            value = (value << 3) | (long)(c - '0');
        }
        return value;
    }
}
