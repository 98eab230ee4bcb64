using System.Formats.Tar;
using System.IO.Compression;
using Hivelet.Images.Oci;
using ZstdSharp;

namespace Hivelet.Fixtures;

/// <summary>Turns a <see cref="LayerDefinition"/> into tar bytes and a (compressed) blob.</summary>
public static class LayerWriter
{
    public static BuiltLayer Build(LayerDefinition layer, ManifestFormat format = ManifestFormat.Oci)
    {
        var tar = WriteTar(layer.Entries);
        var (mediaType, blob) = (layer.Compression, format) switch
        {
            (LayerCompression.Gzip, ManifestFormat.Oci) => (MediaTypes.OciLayerGzip, Gzip(tar)),
            (LayerCompression.Gzip, ManifestFormat.Docker) => (MediaTypes.DockerLayerGzip, Gzip(tar)),
            (LayerCompression.Zstd, ManifestFormat.Oci) => (MediaTypes.OciLayerZstd, Zstd(tar)),
            (LayerCompression.None, ManifestFormat.Oci) => (MediaTypes.OciLayer, tar),
            _ => throw new ArgumentException($"a {format} manifest cannot carry a {layer.Compression} layer"),
        };
        return new BuiltLayer(tar, new Blob(mediaType, blob));
    }

    public static byte[] WriteTar(IEnumerable<LayerEntry> entries)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var e in entries)
                writer.WriteEntry(ToTarEntry(e));
        }
        var tar = output.ToArray();
        TarNormalizer.FixPaxHeaderNames(tar);
        return tar;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            gz.Write(data);
        return output.ToArray();
    }

    public static byte[] Zstd(byte[] data)
    {
        using var compressor = new Compressor(3);
        return compressor.Wrap(data).ToArray();
    }

    private static PaxTarEntry ToTarEntry(LayerEntry e)
    {
        // Only xattrs go in as explicit PAX records; mtime is set through the property so that
        // output is byte-for-byte reproducible (no atime/ctime from the build machine).
        var pax = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.Xattrs is not null)
        {
            foreach (var (name, value) in e.Xattrs)
                pax["SCHILY.xattr." + name] = value;
        }
        var entry = new PaxTarEntry(e.Type, e.Name, pax)
        {
            Mode = (UnixFileMode)e.Mode,
            Uid = e.Uid,
            Gid = e.Gid,
            ModificationTime = e.ModificationTime,
        };
        if (e.LinkName is not null)
            entry.LinkName = e.LinkName;
        if (e.Type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
        {
            entry.DeviceMajor = e.DeviceMajor;
            entry.DeviceMinor = e.DeviceMinor;
        }
        if (e.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            entry.DataStream = new MemoryStream(e.Content, writable: false);
        return entry;
    }
}
