using System.Text;

namespace Hivelet.Fixtures;

/// <summary>
/// Deterministic bulk content for the pull benchmark: a mix of text (compresses ~4x) and
/// binary-like data (barely compresses), in many small files and a few large ones, like a
/// real distribution image. The same seed always gives the same bytes.
/// </summary>
public static class BigContent
{
    private static readonly string[] Words =
    [
        "container", "image", "layer", "registry", "manifest", "digest", "overlay", "mount", "kernel",
        "process", "namespace", "cgroup", "memory", "swarm", "worker", "task", "service", "network",
        "volume", "config", "secret", "node", "board", "arm64", "hivelet", "the", "a", "of", "to",
        "and", "in", "is", "for", "with", "on", "that", "by", "this", "from", "it", "as", "be",
    ];

    public static LayerDefinition Layer(int layerIndex, int files, int largeFiles)
    {
        var random = new Random(0x5EED + layerIndex);
        var layer = new LayerDefinition { CreatedBy = $"big layer {layerIndex}" };
        var root = $"usr/lib/big{layerIndex}";
        layer.Dir("usr/").Dir("usr/lib/").Dir(root);
        for (int i = 0; i < files; i++)
        {
            if (i % 100 == 0)
                layer.Dir($"{root}/pkg{i / 100:D3}");
            var dir = $"{root}/pkg{i / 100:D3}";
            if (random.Next(100) < 60)
                layer.File($"{dir}/doc-{i:D5}.txt", Text(random, 2_000 + random.Next(36_000)));
            else
                layer.File($"{dir}/lib-{i:D5}.so", Binary(random, 4_000 + random.Next(46_000)), mode: 0b111_101_101);
        }
        for (int i = 0; i < largeFiles; i++)
            layer.File($"{root}/blob-{i}.bin", Binary(random, 6_000_000 + random.Next(2_000_000)));
        return layer;
    }

    private static byte[] Text(Random random, int size)
    {
        var sb = new StringBuilder(size + 16);
        while (sb.Length < size)
        {
            sb.Append(Words[random.Next(Words.Length)]);
            sb.Append(random.Next(12) == 0 ? '\n' : ' ');
        }
        return Encoding.ASCII.GetBytes(sb.ToString(0, size));
    }

    private static byte[] Binary(Random random, int size)
    {
        var data = new byte[size];
        random.NextBytes(data);
        // Runs of zeros like the padding in real executables, so gzip gains a little.
        for (int off = 0; off + 512 < size; off += 4096)
        {
            if (random.Next(10) == 0)
                Array.Clear(data, off, 512);
        }
        return data;
    }
}
