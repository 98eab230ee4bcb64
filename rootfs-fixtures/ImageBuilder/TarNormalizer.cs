using System.Text;

namespace Hivelet.Fixtures;

/// <summary>
/// TarWriter names each PAX extended header "PaxHeaders.&lt;pid&gt;/name", which makes layers
/// differ between runs. This rewrites those header names to a fixed value (and fixes the header
/// checksum) so that fixture digests are reproducible.
/// </summary>
public static class TarNormalizer
{
    private const int Block = 512;
    private static readonly byte[] FixedName = Encoding.ASCII.GetBytes("PaxHeaders/entry");

    public static void FixPaxHeaderNames(byte[] tar)
    {
        int offset = 0;
        while (offset + Block <= tar.Length)
        {
            var header = tar.AsSpan(offset, Block);
            if (!header.ContainsAnyExcept((byte)0))
                break;
            long size = ParseOctal(header.Slice(124, 12));
            byte type = header[156];
            if (type is (byte)'x' or (byte)'g')
            {
                header[..100].Clear();
                FixedName.CopyTo(header);
                WriteChecksum(header);
            }
            offset += Block + (int)((size + Block - 1) / Block * Block);
        }
    }

    private static long ParseOctal(ReadOnlySpan<byte> field)
    {
        long value = 0;
        foreach (var b in field)
        {
            if (b is >= (byte)'0' and <= (byte)'7')
                value = (value * 8) + (b - '0');
            else if (b is 0 or (byte)' ' && value > 0)
                break;
        }
        return value;
    }

    private static void WriteChecksum(Span<byte> header)
    {
        // The checksum is the byte sum of the header with the checksum field read as spaces.
        header.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (var b in header)
            sum += b;
        var text = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0'));
        text.CopyTo(header[148..]);
        header[154] = 0;
        header[155] = (byte)' ';
    }
}
