using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Archives;

/// <summary>Builds the archive styles that `hivelet load` reads (images research §5.3, §5.4) from <see cref="TestImage"/>s.</summary>
internal static class ArchiveBuilder
{
    /// <summary>Docker &lt;= 24: &lt;v1id&gt;/layer.tar, &lt;config hex&gt;.json, manifest.json, repositories; shared layers as symlinks.</summary>
    public static byte[] Legacy(params (TestImage Image, string[]? Tags)[] images)
    {
        var entries = new List<(Hivelet.Images.Layers.TarEntry, byte[]?)>();
        var manifest = new StringBuilder("[");
        var firstLayerDir = new Dictionary<Digest, string>();
        foreach (var (image, tags) in images)
        {
            var v1id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            entries.Add((TestImage.Directory(v1id + "/"), null));
            entries.Add((TestImage.File($"{v1id}/VERSION"), "1.0"u8.ToArray()));
            entries.Add((TestImage.File($"{v1id}/json"), "{}"u8.ToArray()));
            if (firstLayerDir.TryGetValue(image.DiffId, out var other))
                entries.Add((TestImage.Symlink($"{v1id}/layer.tar", $"../{other}/layer.tar"), null));
            else
                entries.Add((TestImage.File($"{v1id}/layer.tar"), image.LayerTar));
            firstLayerDir.TryAdd(image.DiffId, v1id);
            entries.Add((TestImage.File($"{image.ConfigDigest.Encoded}.json"), image.Config));
            if (manifest.Length > 1)
                manifest.Append(',');
            manifest.Append($"{{\"Config\":\"{image.ConfigDigest.Encoded}.json\",\"RepoTags\":{Tags(tags)},\"Layers\":[\"{v1id}/layer.tar\"]}}");
        }
        manifest.Append(']');
        entries.Add((TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(manifest.ToString())));
        entries.Add((TestImage.File("repositories"), "{}"u8.ToArray()));
        return TestImage.Archive(entries);
    }

    /// <summary>Docker &gt;= 25: an OCI layout (index.json annotated per tag) plus manifest.json pointing into blobs/.</summary>
    public static byte[] Docker25(params (TestImage Image, string[] Tags)[] images)
    {
        var blobs = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex };
        var manifest = new StringBuilder("[");
        foreach (var (image, tags) in images)
        {
            blobs[$"blobs/sha256/{image.LayerDigest.Encoded}"] = image.LayerBlob;
            blobs[$"blobs/sha256/{image.ConfigDigest.Encoded}"] = image.Config;
            blobs[$"blobs/sha256/{image.ManifestDigest.Encoded}"] = image.Manifest;
            foreach (var tag in tags)
            {
                index.Manifests.Add(image.ManifestDescriptor(new Dictionary<string, string>
                {
                    ["io.containerd.image.name"] = tag,
                    ["org.opencontainers.image.ref.name"] = tag[(tag.LastIndexOf(':') + 1)..],
                }));
            }
            if (manifest.Length > 1)
                manifest.Append(',');
            manifest.Append($"{{\"Config\":\"blobs/sha256/{image.ConfigDigest.Encoded}\",\"RepoTags\":{Tags(tags)},\"Layers\":[\"blobs/sha256/{image.LayerDigest.Encoded}\"]}}");
        }
        manifest.Append(']');
        var entries = new List<(Hivelet.Images.Layers.TarEntry, byte[]?)>
        {
            (TestImage.Directory("blobs/"), null),
            (TestImage.Directory("blobs/sha256/"), null),
        };
        entries.AddRange(blobs.Select(b => (TestImage.File(b.Key), (byte[]?)b.Value)));
        entries.Add((TestImage.File("index.json"), JsonSerializer.SerializeToUtf8Bytes(index, OciJsonContext.Default.ImageIndex)));
        entries.Add((TestImage.File("manifest.json"), Encoding.UTF8.GetBytes(manifest.ToString())));
        entries.Add((TestImage.File("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray()));
        return TestImage.Archive(entries);
    }

    /// <summary>
    /// An OCI layout whose index.json holds one multi-platform index named <paramref name="refName"/>;
    /// blobs listed in <paramref name="omit"/> are left out.
    /// </summary>
    public static Dictionary<string, byte[]> OciLayoutFiles(string refName, TestImage[] platforms, out byte[] platformIndex,
        params Digest[] omit)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var inner = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex };
        foreach (var image in platforms)
        {
            files[$"blobs/sha256/{image.LayerDigest.Encoded}"] = image.LayerBlob;
            files[$"blobs/sha256/{image.ConfigDigest.Encoded}"] = image.Config;
            files[$"blobs/sha256/{image.ManifestDigest.Encoded}"] = image.Manifest;
            inner.Manifests.Add(image.ManifestDescriptor());
        }
        platformIndex = JsonSerializer.SerializeToUtf8Bytes(inner, OciJsonContext.Default.ImageIndex);
        var innerDigest = Digest.ComputeSha256(platformIndex);
        files[$"blobs/sha256/{innerDigest.Encoded}"] = platformIndex;
        foreach (var d in omit)
            files.Remove($"blobs/sha256/{d.Encoded}");
        var top = new ImageIndex
        {
            SchemaVersion = 2,
            Manifests =
            [
                new Descriptor
                {
                    MediaType = MediaTypes.OciIndex,
                    Digest = innerDigest.ToString(),
                    Size = platformIndex.Length,
                    Annotations = new() { ["org.opencontainers.image.ref.name"] = refName },
                },
            ],
        };
        files["index.json"] = JsonSerializer.SerializeToUtf8Bytes(top, OciJsonContext.Default.ImageIndex);
        files["oci-layout"] = "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray();
        return new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
    }

    public static byte[] Tar(Dictionary<string, byte[]> files) =>
        TestImage.Archive(files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (TestImage.File(f.Key), (byte[]?)f.Value)));

    /// <summary>Writes the files as a directory tree (an OCI layout skopeo reads with oci:DIR).</summary>
    public static void WriteTree(Dictionary<string, byte[]> files, string directory)
    {
        foreach (var (path, data) in files)
        {
            var full = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, data);
        }
    }

    private static string Tags(string[]? tags) =>
        tags is null ? "null" : "[" + string.Join(',', tags.Select(t => $"\"{t}\"")) + "]";
}
