using System.Globalization;
using System.Text;

namespace Hivelet.Images.Layers;

/// <summary>
/// Writes tar archives that <see cref="TarReader"/> reads back losslessly: plain ustar headers when
/// the entry fits, a PAX 'x' header in front otherwise (long or non-ASCII names, large ids or sizes,
/// sub-second or out-of-range times, access times, xattrs with binary values).
/// </summary>
public sealed class TarWriter : IDisposable
{
    private const int BlockSize = TarReader.BlockSize;
    private const long MaxOctal7 = 0x1FFFFF; // 7 octal digits
    private const long MaxOctal11 = 0x1FFFFFFFF; // 11 octal digits

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly byte[] _block = new byte[BlockSize];
    private bool _finished;

    public TarWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Writes an entry whose data (files only) is <paramref name="data"/>; its length sets the size.</summary>
    public void WriteEntry(TarEntry entry, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Type == TarEntryType.File)
            entry.Size = data.Length;
        else if (!data.IsEmpty)
            throw new ArgumentException($"entry \"{entry.Name}\" of type {entry.Type} cannot have data", nameof(data));
        WriteHeader(entry);
        _stream.Write(data);
        WritePadding(data.Length);
    }

    /// <summary>Writes an entry copying exactly <see cref="TarEntry.Size"/> bytes from <paramref name="data"/> (files only).</summary>
    public void WriteEntry(TarEntry entry, Stream? data)
    {
        ArgumentNullException.ThrowIfNull(entry);
        long size = entry.Type == TarEntryType.File ? entry.Size : 0;
        if (size > 0 && data is null)
            throw new ArgumentException($"entry \"{entry.Name}\" needs {size} bytes of data", nameof(data));
        WriteHeader(entry);
        if (size > 0)
        {
            var buffer = new byte[(int)Math.Min(size, 1 << 20)];
            long left = size;
            while (left > 0)
            {
                int n = data!.Read(buffer, 0, (int)Math.Min(left, buffer.Length));
                if (n == 0)
                    throw new EndOfStreamException($"entry \"{entry.Name}\": data ended {left} bytes short of {size}");
                _stream.Write(buffer, 0, n);
                left -= n;
            }
        }
        WritePadding(size);
    }

    /// <summary>Writes the end-of-archive marker (two zero blocks). Dispose does it too.</summary>
    public void Finish()
    {
        if (_finished)
            return;
        _finished = true;
        Array.Clear(_block);
        _stream.Write(_block);
        _stream.Write(_block);
        _stream.Flush();
    }

    public void Dispose()
    {
        Finish();
        if (!_leaveOpen)
            _stream.Dispose();
    }

    private void WritePadding(long size)
    {
        int pad = (int)((BlockSize - size % BlockSize) % BlockSize);
        if (pad > 0)
        {
            Array.Clear(_block);
            _stream.Write(_block, 0, pad);
        }
    }

    private void WriteHeader(TarEntry e)
    {
        if (_finished)
            throw new InvalidOperationException("the archive is already finished");
        long size = e.Type == TarEntryType.File ? e.Size : 0;
        var pax = new List<KeyValuePair<string, byte[]>>();

        byte[] nameBytes = Encoding.UTF8.GetBytes(e.Name);
        bool split = TrySplitUstarName(nameBytes, out int splitAt);
        if (!split || !IsAscii(nameBytes))
            pax.Add(Record("path", nameBytes));
        byte[] linkBytes = Encoding.UTF8.GetBytes(e.LinkName ?? "");
        if (linkBytes.Length > 100 || !IsAscii(linkBytes))
            pax.Add(Record("linkpath", linkBytes));
        if (e.Uid is < 0 or > MaxOctal7)
            pax.Add(Record("uid", e.Uid.ToString(CultureInfo.InvariantCulture)));
        if (e.Gid is < 0 or > MaxOctal7)
            pax.Add(Record("gid", e.Gid.ToString(CultureInfo.InvariantCulture)));
        if (size > MaxOctal11)
            pax.Add(Record("size", size.ToString(CultureInfo.InvariantCulture)));
        byte[] uname = Encoding.UTF8.GetBytes(e.UserName ?? "");
        if (uname.Length > 31 || !IsAscii(uname))
            pax.Add(Record("uname", uname));
        byte[] gname = Encoding.UTF8.GetBytes(e.GroupName ?? "");
        if (gname.Length > 31 || !IsAscii(gname))
            pax.Add(Record("gname", gname));
        long mtimeTicks = (e.ModifiedTime - DateTimeOffset.UnixEpoch).Ticks;
        long mtimeSeconds = Math.DivRem(mtimeTicks, TimeSpan.TicksPerSecond, out long mtimeFraction);
        if (mtimeFraction != 0 || mtimeSeconds is < 0 or > MaxOctal11)
            pax.Add(Record("mtime", FormatTime(e.ModifiedTime)));
        if (e.AccessTime is { } atime)
            pax.Add(Record("atime", FormatTime(atime)));
        if (e.DeviceMajor is < 0 or > MaxOctal7)
            pax.Add(Record("SCHILY.devmajor", e.DeviceMajor.ToString(CultureInfo.InvariantCulture)));
        if (e.DeviceMinor is < 0 or > MaxOctal7)
            pax.Add(Record("SCHILY.devminor", e.DeviceMinor.ToString(CultureInfo.InvariantCulture)));
        foreach (var (key, value) in e.Xattrs)
            pax.Add(new("SCHILY.xattr." + key, value));

        if (pax.Count > 0)
        {
            byte[] data = EncodePax(pax);
            string paxName = "PaxHeaders/" + Path.GetFileName(e.Name.TrimEnd('/'));
            FillHeader(Encoding.UTF8.GetBytes(paxName), (byte)'x', 0x1A4, 0, 0, data.Length, 0, [], [], [], 0, 0);
            _stream.Write(_block);
            _stream.Write(data);
            WritePadding(data.Length);
        }

        byte type = e.Type switch
        {
            TarEntryType.File => (byte)'0',
            TarEntryType.HardLink => (byte)'1',
            TarEntryType.Symlink => (byte)'2',
            TarEntryType.CharDevice => (byte)'3',
            TarEntryType.BlockDevice => (byte)'4',
            TarEntryType.Directory => (byte)'5',
            TarEntryType.Fifo => (byte)'6',
            _ => throw new ArgumentException($"entry \"{e.Name}\": unknown type {e.Type}", nameof(e)),
        };
        byte[] headerName = split ? nameBytes : Truncate(nameBytes, 100);
        FillHeader(headerName, type, e.Mode & 0xFFF, Fit(e.Uid, MaxOctal7), Fit(e.Gid, MaxOctal7),
            Fit(size, MaxOctal11), Fit(mtimeSeconds, MaxOctal11), Truncate(linkBytes, 100),
            Truncate(uname, 31), Truncate(gname, 31), Fit(e.DeviceMajor, MaxOctal7), Fit(e.DeviceMinor, MaxOctal7),
            split ? splitAt : -1);
        _stream.Write(_block);
    }

    private static long Fit(long value, long max) => value is < 0 || value > max ? 0 : value;

    private static byte[] Truncate(byte[] b, int max) => b.Length <= max ? b : b[..max];

    private static bool IsAscii(byte[] b) => !b.AsSpan().ContainsAnyExceptInRange((byte)1, (byte)0x7F);

    /// <summary>Fits a name in ustar's name (100) and prefix (155) fields, split at a '/'.</summary>
    private static bool TrySplitUstarName(byte[] name, out int splitAt)
    {
        splitAt = -1;
        if (name.Length <= 100)
            return true;
        if (name.Length > 256)
            return false;
        for (int i = Math.Min(name.Length - 2, 155); i > 0; i--)
        {
            if (name[i] == (byte)'/' && name.Length - i - 1 <= 100)
            {
                splitAt = i;
                return true;
            }
        }
        return false;
    }

    private void FillHeader(byte[] name, byte type, long mode, long uid, long gid, long size, long mtime,
        byte[] link, byte[] uname, byte[] gname, long major, long minor, int splitAt = -1)
    {
        var b = _block.AsSpan();
        b.Clear();
        if (splitAt >= 0)
        {
            name.AsSpan(0, splitAt).CopyTo(b.Slice(345, 155));
            name.AsSpan(splitAt + 1).CopyTo(b[..100]);
        }
        else
        {
            name.AsSpan(0, Math.Min(100, name.Length)).CopyTo(b[..100]);
        }
        Octal(b.Slice(100, 8), mode);
        Octal(b.Slice(108, 8), uid);
        Octal(b.Slice(116, 8), gid);
        Octal(b.Slice(124, 12), size);
        Octal(b.Slice(136, 12), mtime);
        b[156] = type;
        link.CopyTo(b.Slice(157, 100));
        "ustar\0"u8.CopyTo(b.Slice(257, 6));
        "00"u8.CopyTo(b.Slice(263, 2));
        uname.CopyTo(b.Slice(265, 32));
        gname.CopyTo(b.Slice(297, 32));
        Octal(b.Slice(329, 8), major);
        Octal(b.Slice(337, 8), minor);
        b.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte x in b)
            sum += x;
        Octal(b.Slice(148, 7), sum);
    }

    /// <summary>Zero-padded octal filling all but the last byte, which stays NUL.</summary>
    private static void Octal(Span<byte> field, long value)
    {
        for (int i = field.Length - 2; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
        field[^1] = 0;
    }

    private static KeyValuePair<string, byte[]> Record(string key, string value) => new(key, Encoding.UTF8.GetBytes(value));

    private static KeyValuePair<string, byte[]> Record(string key, byte[] value) => new(key, value);

    private static string FormatTime(DateTimeOffset t)
    {
        long ticks = (t - DateTimeOffset.UnixEpoch).Ticks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long fraction);
        if (fraction == 0)
            return seconds.ToString(CultureInfo.InvariantCulture);
        if (fraction < 0)
        {
            // "-1.5" means 1.5 s before the epoch: the sign covers the fraction too.
            return "-" + (-seconds).ToString(CultureInfo.InvariantCulture) + "." +
                (-fraction).ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
        }
        return seconds.ToString(CultureInfo.InvariantCulture) + "." +
            fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
    }

    /// <summary>"LEN KEY=VALUE\n" where LEN counts itself, so its digit count is found by iteration.</summary>
    private static byte[] EncodePax(List<KeyValuePair<string, byte[]>> records)
    {
        using var ms = new MemoryStream();
        foreach (var (key, value) in records)
        {
            byte[] k = Encoding.UTF8.GetBytes(key);
            int body = 1 + k.Length + 1 + value.Length + 1;
            int len = body + 1;
            while (len != body + Digits(len))
                len = body + Digits(len);
            ms.Write(Encoding.ASCII.GetBytes(len.ToString(CultureInfo.InvariantCulture)));
            ms.WriteByte((byte)' ');
            ms.Write(k);
            ms.WriteByte((byte)'=');
            ms.Write(value);
            ms.WriteByte((byte)'\n');
        }
        return ms.ToArray();
    }

    private static int Digits(int n) => n.ToString(CultureInfo.InvariantCulture).Length;
}
