using System.Globalization;
using System.Text;
using Hivelet.Images.Oci;
using Hivelet.IO;

namespace Hivelet.Images.Content;

/// <summary>
/// The unpacked size of each layer, by diff ID, recorded when the layer is unpacked (the byte count of
/// its uncompressed tar, which the diff_id pass reads anyway). `images` adds them up for Docker's
/// SIZE column. One small file per layer, content/layer-sizes/&lt;alg&gt;/&lt;hex&gt;, written atomically;
/// a missing or unreadable figure (a store from before sizes were recorded) is simply unknown.
/// </summary>
public sealed class LayerSizes(StoreRoot root)
{
    public string Directory => root.LayerSizesDir;

    public void Record(Digest diffId, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var path = PathOf(diffId);
        if (TryGet(diffId) == size)
            return;
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, Encoding.ASCII.GetBytes(size.ToString(CultureInfo.InvariantCulture)));
    }

    public long? TryGet(Digest diffId)
    {
        if (diffId.IsEmpty)
            return null;
        try
        {
            var text = File.ReadAllText(PathOf(diffId));
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The image's unpacked size: the recorded figure of each layer, or, for a layer without one, the
    /// size of its blob as stored (what `images` showed before sizes were recorded).
    /// </summary>
    public long ImageSize(IReadOnlyList<Digest> diffIds, IReadOnlyList<Descriptor> layers)
    {
        long total = 0;
        for (int i = 0; i < layers.Count; i++)
            total += (i < diffIds.Count ? TryGet(diffIds[i]) : null) ?? layers[i].Size;
        return total;
    }

    /// <summary>Forgets the figures of layers no image has any more; returns how many went.</summary>
    public int RemoveAllBut(IReadOnlySet<Digest> liveDiffIds)
    {
        if (!System.IO.Directory.Exists(Directory))
            return 0;
        int removed = 0;
        foreach (var algorithmDir in System.IO.Directory.EnumerateDirectories(Directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(algorithmDir))
            {
                var name = Path.GetFileName(file);
                if (Digest.TryParse(Path.GetFileName(algorithmDir) + ":" + name, out var digest, out _) && liveDiffIds.Contains(digest))
                    continue;
                File.Delete(file);
                removed++;
            }
        }
        return removed;
    }

    private string PathOf(Digest diffId) => Path.Combine(Directory, diffId.Algorithm, diffId.Encoded);
}
