using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Hivelet.Runtime.Lifecycle;

/// <summary>Frame types on the start socket (fd 3 of the monitor; native/CONTRACT.md).</summary>
public enum FrameType : byte
{
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    Started = 3,
    Exit = 4,
    Error = 5,
    StdinEof = 6,
    Resize = 7,
    Removed = 8,
}

public readonly record struct Frame(FrameType Type, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    /// <summary>STARTED: the container's host pid.</summary>
    public int StartedPid => int.Parse(Text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>EXIT: "CODE OOM".</summary>
    public (int Code, bool OomKilled) ExitStatus
    {
        get
        {
            var parts = Text.Trim().Split(' ');
            return (int.Parse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture), parts.Length > 1 && parts[1] == "1");
        }
    }

    /// <summary>ERROR: "CODE MESSAGE".</summary>
    public (int Code, string Message) ErrorStatus
    {
        get
        {
            var text = Text.Trim();
            int sp = text.IndexOf(' ', StringComparison.Ordinal);
            var codeText = sp < 0 ? text : text[..sp];
            var message = sp < 0 ? "" : text[(sp + 1)..];
            return int.TryParse(codeText, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? (code, message) : (125, text);
        }
    }
}

/// <summary>1 byte type, 4 bytes big-endian length, payload.</summary>
public static class StartFrames
{
    public const int HeaderSize = 5;

    /// <summary>Frames larger than this are a protocol error (the monitor sends at most 64 KiB).</summary>
    public const int MaxPayload = 1 << 20;

    public static byte[] Encode(FrameType type, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[HeaderSize + payload.Length];
        buffer[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    public static byte[] Resize(ushort rows, ushort cols)
    {
        Span<byte> p = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(p, rows);
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], cols);
        return Encode(FrameType.Resize, p);
    }

    /// <summary>The next frame, or null at a clean end of stream; a truncated frame throws.</summary>
    public static async Task<Frame?> ReadAsync(Stream stream, CancellationToken ct = default)
    {
        var header = new byte[HeaderSize];
        int got = await ReadFullAsync(stream, header, ct).ConfigureAwait(false);
        if (got == 0)
            return null;
        if (got < HeaderSize)
            throw new EndOfStreamException("start socket: truncated frame header");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > MaxPayload)
            throw new InvalidDataException($"start socket: frame of {length} bytes is too large");
        var payload = new byte[length];
        if (await ReadFullAsync(stream, payload, ct).ConfigureAwait(false) < length)
            throw new EndOfStreamException("start socket: truncated frame");
        return new Frame((FrameType)header[0], payload);
    }

    private static async Task<int> ReadFullAsync(Stream stream, byte[] buffer, CancellationToken ct)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}
