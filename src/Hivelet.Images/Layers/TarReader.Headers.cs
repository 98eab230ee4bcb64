using System.Globalization;
using System.Text;
using Hivelet.Errors;

namespace Hivelet.Images.Layers;

// Folding PAX records and GNU long names into the ustar header that follows them.
public sealed partial class TarReader
{
    private const string SchilyXattr = "SCHILY.xattr.";
    private const string LibarchiveXattr = "LIBARCHIVE.xattr.";

    /// <summary>Extension values collected from 'x', 'L' and 'K' headers for the next real entry.</summary>
    private struct PendingExtensions
    {
        public string? Path;
        public string? LinkPath;
        public string? GnuLongName;
        public string? GnuLongLink;
        public long? Size;
        public long? Uid;
        public long? Gid;
        public string? UserName;
        public string? GroupName;
        public DateTimeOffset? ModifiedTime;
        public DateTimeOffset? AccessTime;
        public long? DevMajor;
        public long? DevMinor;
        public bool Sparse;
        public List<KeyValuePair<string, byte[]>>? Xattrs;

        public readonly bool Any => Path != null || LinkPath != null || GnuLongName != null || GnuLongLink != null ||
            Size != null || Uid != null || Gid != null || UserName != null || GroupName != null ||
            ModifiedTime != null || AccessTime != null || DevMajor != null || DevMinor != null || Sparse || Xattrs != null;
    }

    private TarEntry BuildEntry(ReadOnlySpan<byte> block, byte type, long size, ref PendingExtensions ext, long offset)
    {
        var magic = block.Slice(257, 8);
        bool ustar = magic.StartsWith("ustar\0"u8);
        bool gnu = magic.SequenceEqual("ustar  \0"u8);

        string name = ext.Path ?? ext.GnuLongName ?? HeaderPath(block, ustar);
        if (name.Length == 0)
            throw Corrupt(offset, null, "entry has an empty name");
        if (name.Length > MaxNameLength)
            throw Corrupt(offset, name[..64] + "...", $"name longer than {MaxNameLength} characters");
        if (ext.Sparse || type == 'S')
            throw Corrupt(offset, name, "sparse files are not supported in image layers");

        var entryType = type switch
        {
            (byte)'0' or 0 or (byte)'7' => name.EndsWith('/') ? TarEntryType.Directory : TarEntryType.File,
            (byte)'1' => TarEntryType.HardLink,
            (byte)'2' => TarEntryType.Symlink,
            (byte)'3' => TarEntryType.CharDevice,
            (byte)'4' => TarEntryType.BlockDevice,
            (byte)'5' or (byte)'D' => TarEntryType.Directory,
            (byte)'6' => TarEntryType.Fifo,
            _ => throw Corrupt(offset, name, $"unsupported entry type '{DescribeType(type)}'"),
        };

        var entry = new TarEntry
        {
            Name = name,
            Type = entryType,
            Mode = (int)(ParseNumeric(block.Slice(100, 8), offset, "mode") & 0xFFF),
            Uid = ext.Uid ?? ParseNumeric(block.Slice(108, 8), offset, "uid"),
            Gid = ext.Gid ?? ParseNumeric(block.Slice(116, 8), offset, "gid"),
            Size = entryType == TarEntryType.File ? ext.Size ?? size : 0,
            ModifiedTime = ext.ModifiedTime ?? FromUnixSeconds(ParseNumeric(block.Slice(136, 12), offset, "mtime"), 0),
            AccessTime = ext.AccessTime,
        };
        if (entryType is TarEntryType.HardLink or TarEntryType.Symlink)
        {
            entry.LinkName = ext.LinkPath ?? ext.GnuLongLink ?? DecodeCString(block.Slice(157, 100));
            if (entry.LinkName.Length == 0)
                throw Corrupt(offset, name, "link has an empty target");
            if (entry.LinkName.Length > MaxNameLength)
                throw Corrupt(offset, name, $"link target longer than {MaxNameLength} characters");
        }
        if (ustar || gnu)
        {
            entry.UserName = ext.UserName ?? NullIfEmpty(DecodeCString(block.Slice(265, 32)));
            entry.GroupName = ext.GroupName ?? NullIfEmpty(DecodeCString(block.Slice(297, 32)));
            if (entryType is TarEntryType.CharDevice or TarEntryType.BlockDevice)
            {
                entry.DeviceMajor = ext.DevMajor ?? ParseNumeric(block.Slice(329, 8), offset, "devmajor");
                entry.DeviceMinor = ext.DevMinor ?? ParseNumeric(block.Slice(337, 8), offset, "devminor");
            }
        }
        if (entry.Size < 0 || entry.Uid < 0 || entry.Gid < 0)
            throw Corrupt(offset, name, "negative size, uid or gid");
        if (ext.Xattrs != null)
        {
            foreach (var (key, value) in ext.Xattrs)
                entry.Xattrs[key] = value;
        }
        ext = default;
        return entry;
    }

    private static string DescribeType(byte type) =>
        type is >= 0x20 and < 0x7F ? ((char)type).ToString() : $"\\x{type:x2}";

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static string HeaderPath(ReadOnlySpan<byte> block, bool ustar)
    {
        string name = DecodeCString(block[..100]);
        if (!ustar)
            return name;
        string prefix = DecodeCString(block.Slice(345, 155));
        return prefix.Length == 0 ? name : prefix + "/" + name;
    }

    /// <summary>Parses "LEN KEY=VALUE\n" records; values stay bytes until their key says what they are.</summary>
    private static void ParsePax(ReadOnlySpan<byte> data, ref PendingExtensions ext, long offset)
    {
        while (data.Length > 0)
        {
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || space > 10)
                throw Corrupt(offset, ext.Path, "malformed PAX record length");
            if (!int.TryParse(data[..space], NumberStyles.None, CultureInfo.InvariantCulture, out int length) ||
                length <= space + 1 || length > data.Length || data[length - 1] != (byte)'\n')
                throw Corrupt(offset, ext.Path, "malformed PAX record");
            var record = data[(space + 1)..(length - 1)];
            data = data[length..];
            int eq = record.IndexOf((byte)'=');
            if (eq <= 0)
                throw Corrupt(offset, ext.Path, "PAX record without a key");
            string key = Encoding.UTF8.GetString(record[..eq]);
            var value = record[(eq + 1)..];
            ApplyPaxRecord(key, value, ref ext, offset);
        }
    }

    private static void ApplyPaxRecord(string key, ReadOnlySpan<byte> value, ref PendingExtensions ext, long offset)
    {
        switch (key)
        {
            case "path":
                ext.Path = Encoding.UTF8.GetString(value);
                return;
            case "linkpath":
                ext.LinkPath = Encoding.UTF8.GetString(value);
                return;
            case "size":
                ext.Size = PaxInteger(key, value, ext.Path, offset);
                return;
            case "uid":
                ext.Uid = PaxInteger(key, value, ext.Path, offset);
                return;
            case "gid":
                ext.Gid = PaxInteger(key, value, ext.Path, offset);
                return;
            case "uname":
                ext.UserName = Encoding.UTF8.GetString(value);
                return;
            case "gname":
                ext.GroupName = Encoding.UTF8.GetString(value);
                return;
            case "mtime":
                ext.ModifiedTime = PaxTime(key, value, ext.Path, offset);
                return;
            case "atime":
                ext.AccessTime = PaxTime(key, value, ext.Path, offset);
                return;
            case "SCHILY.devmajor":
                ext.DevMajor = PaxInteger(key, value, ext.Path, offset);
                return;
            case "SCHILY.devminor":
                ext.DevMinor = PaxInteger(key, value, ext.Path, offset);
                return;
        }
        if (key.StartsWith(SchilyXattr, StringComparison.Ordinal) && key.Length > SchilyXattr.Length)
        {
            (ext.Xattrs ??= []).Add(new(key[SchilyXattr.Length..], value.ToArray()));
        }
        else if (key.StartsWith(LibarchiveXattr, StringComparison.Ordinal) && key.Length > LibarchiveXattr.Length)
        {
            // libarchive URL-encodes the name and base64-encodes the value.
            string name = Uri.UnescapeDataString(key[LibarchiveXattr.Length..]);
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(PadBase64(Encoding.ASCII.GetString(value)));
            }
            catch (FormatException)
            {
                throw Corrupt(offset, ext.Path, $"PAX record {key} is not base64");
            }
            (ext.Xattrs ??= []).Add(new(name, bytes));
        }
        else if (key.StartsWith("GNU.sparse.", StringComparison.Ordinal))
        {
            ext.Sparse = true;
        }
    }

    private static string PadBase64(string s) => (s.Length % 4) switch
    {
        2 => s + "==",
        3 => s + "=",
        _ => s,
    };

    private static long PaxInteger(string key, ReadOnlySpan<byte> value, string? name, long offset)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw Corrupt(offset, name, $"PAX record {key} is not an integer");
        return v;
    }

    /// <summary>"SECONDS[.FRACTION]", possibly negative; kept to 100 ns, the resolution of DateTimeOffset.</summary>
    private static DateTimeOffset PaxTime(string key, ReadOnlySpan<byte> value, string? name, long offset)
    {
        bool negative = value.Length > 0 && value[0] == (byte)'-';
        var digits = negative ? value[1..] : value;
        int dot = digits.IndexOf((byte)'.');
        var secPart = dot >= 0 ? digits[..dot] : digits;
        var fracPart = dot >= 0 ? digits[(dot + 1)..] : default;
        if (!long.TryParse(secPart, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) ||
            fracPart.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            throw Corrupt(offset, name, $"PAX record {key} is not a time");
        long ticks = 0;
        for (int i = 0; i < 7; i++)
            ticks = ticks * 10 + (i < fracPart.Length ? fracPart[i] - '0' : 0);
        if (negative)
        {
            seconds = -seconds;
            if (ticks > 0)
            {
                seconds -= 1;
                ticks = TimeSpan.TicksPerSecond - ticks;
            }
        }
        return FromUnixSeconds(seconds, ticks);
    }

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds() - 1;

    private static DateTimeOffset FromUnixSeconds(long seconds, long ticks) =>
        DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, MinUnixSeconds, MaxUnixSeconds)).AddTicks(ticks);
}
