using System.IO.Compression;

namespace Hivelet.Images.Layers;

/// <summary>
/// Opens a layer blob as its uncompressed tar stream. The format is taken from the magic bytes, not
/// the media type, because importers and old tarballs mislabel layers (containerd does the same).
/// </summary>
public static class LayerDecompressor
{
    private const int BufferSize = 1 << 20;

    /// <summary>Detects the compression of the blob whose first bytes are <paramref name="head"/> (4 suffice).</summary>
    public static LayerCompression Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B)
            return LayerCompression.Gzip;
        if (head.Length >= 4 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD && head[0] == 0x28)
            return LayerCompression.Zstd;
        // zstd skippable frames (0x184D2A50..0x184D2A5F little-endian) may precede the data frames.
        if (head.Length >= 4 && (head[0] & 0xF0) == 0x50 && head[1] == 0x2A && head[2] == 0x4D && head[3] == 0x18)
            return LayerCompression.Zstd;
        return LayerCompression.None;
    }

    /// <summary>
    /// Wraps <paramref name="blob"/> (read forward only) in the right decompressor. Disposing the
    /// result disposes <paramref name="blob"/> unless <paramref name="leaveOpen"/>.
    /// </summary>
    public static Stream Open(Stream blob, out LayerCompression compression, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var head = new byte[4];
        int got = 0;
        while (got < head.Length)
        {
            int n = blob.Read(head, got, head.Length - got);
            if (n == 0)
                break;
            got += n;
        }
        compression = Detect(head.AsSpan(0, got));
        Stream source = new PrefixedStream(head.AsMemory(0, got), blob, leaveOpen);
        return compression switch
        {
            LayerCompression.Gzip => new GZipStream(new BufferedStream(source, BufferSize), CompressionMode.Decompress, leaveOpen: false),
            LayerCompression.Zstd => new ZstdSharp.DecompressionStream(source, BufferSize, checkEndOfStream: true, leaveOpen: false),
            _ => source,
        };
    }
}
