using System.Text;
using System.Text.Json;
using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

public enum DockerArchiveStyle
{
    /// <summary>Docker up to 24: &lt;v1id&gt;/layer.tar, &lt;config&gt;.json, manifest.json, repositories.</summary>
    Legacy,

    /// <summary>Docker 25 and later: an OCI layout with uncompressed layers plus manifest.json.</summary>
    OciCompatible,
}

/// <summary>Writes `docker save`-style archives (images research §5.4) for `hivelet load` tests.</summary>
public static class DockerArchive
{
    public static ArchiveContent Create(BuiltImage image, IReadOnlyList<string> repoTags, DockerArchiveStyle style) =>
        Create([(image, repoTags)], style);

    public static ArchiveContent Create(IReadOnlyList<(BuiltImage Image, IReadOnlyList<string> RepoTags)> images,
        DockerArchiveStyle style)
    {
        var content = new ArchiveContent();
        var entries = new List<DockerSaveEntry>();
        var repositories = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex };
        if (style == DockerArchiveStyle.OciCompatible)
            OciLayout.AddLayoutFile(content);

        foreach (var (image, tags) in images)
        {
            var (entry, topId) = style == DockerArchiveStyle.Legacy
                ? AddLegacy(content, image)
                : AddOciCompatible(content, image, tags, index);
            entry.RepoTags = [.. tags];
            entries.Add(entry);
            foreach (var tag in tags)
            {
                var (repo, t) = SplitTag(tag);
                if (!repositories.TryGetValue(repo, out var map))
                    repositories[repo] = map = new Dictionary<string, string>(StringComparer.Ordinal);
                map[t] = topId;
            }
        }

        if (style == DockerArchiveStyle.OciCompatible)
            content.File("index.json", JsonSerializer.SerializeToUtf8Bytes(index, FixtureJson.Oci.ImageIndex));
        content.File("manifest.json", JsonSerializer.SerializeToUtf8Bytes(entries, FixtureJson.Archive.ListDockerSaveEntry));
        content.File("repositories", JsonSerializer.SerializeToUtf8Bytes(repositories,
            FixtureJson.Archive.DictionaryStringDictionaryStringString));
        return content;
    }

    /// <summary>"busybox" → "docker.io/library/busybox:latest", as Docker names images in index.json.</summary>
    public static string FullName(string tag)
    {
        var (repo, t) = SplitTag(tag);
        int slash = repo.IndexOf('/');
        var first = slash < 0 ? "" : repo[..slash];
        if (slash < 0)
            repo = "docker.io/library/" + repo;
        else if (!first.Contains('.') && !first.Contains(':') && first != "localhost")
            repo = "docker.io/" + repo;
        return $"{repo}:{t}";
    }

    private static (DockerSaveEntry Entry, string TopId) AddLegacy(ArchiveContent content, BuiltImage image)
    {
        var entry = new DockerSaveEntry { Config = image.Config.Digest.Encoded + ".json" };
        content.File(entry.Config, image.Config.Content);
        var chain = ChainId.Compute(image.Layers.Select(l => l.DiffId).ToList());
        string? parent = null;
        for (int i = 0; i < image.Layers.Count; i++)
        {
            // Docker derived v1 IDs from the chain; any stable function of it serves the format.
            var id = Digest.ComputeSha256(Encoding.ASCII.GetBytes($"v1 {chain[i]} {parent}")).Encoded;
            var json = new LegacyLayerJson
            {
                Id = id,
                Parent = parent,
                Created = image.ParsedConfig.Created ?? DateTimeOffset.UnixEpoch,
                Os = image.Platform.Os,
                Architecture = image.Platform.Architecture,
            };
            content.File($"{id}/VERSION", "1.0"u8.ToArray());
            content.File($"{id}/json", JsonSerializer.SerializeToUtf8Bytes(json, FixtureJson.Archive.LegacyLayerJson));
            content.File($"{id}/layer.tar", image.Layers[i].Tar);
            entry.Layers.Add($"{id}/layer.tar");
            parent = id;
        }
        return (entry, parent ?? image.Config.Digest.Encoded);
    }

    private static (DockerSaveEntry Entry, string TopId) AddOciCompatible(ArchiveContent content, BuiltImage image,
        IReadOnlyList<string> tags, ImageIndex index)
    {
        // Docker ≥ 25 exports layers uncompressed, named by their DiffID, under an OCI manifest.
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = image.Config.Digest.ToString(), Size = image.Config.Size },
            Layers = image.Layers.Select(l => new Descriptor
            {
                MediaType = MediaTypes.OciLayer,
                Digest = l.DiffId.ToString(),
                Size = l.Tar.LongLength,
            }).ToList(),
        };
        var manifestBlob = new Blob(MediaTypes.OciManifest,
            JsonSerializer.SerializeToUtf8Bytes(manifest, FixtureJson.Oci.ImageManifest));

        var entry = new DockerSaveEntry { Config = OciLayout.BlobPath(image.Config.Digest) };
        foreach (var layer in image.Layers)
        {
            OciLayout.AddBlob(content, layer.DiffId, layer.Tar);
            entry.Layers.Add(OciLayout.BlobPath(layer.DiffId));
        }
        OciLayout.AddBlob(content, image.Config.Digest, image.Config.Content);
        OciLayout.AddBlob(content, manifestBlob.Digest, manifestBlob.Content);
        foreach (var tag in tags)
        {
            index.Manifests.Add(manifestBlob.ToDescriptor(annotations: new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [OciLayout.ContainerdNameAnnotation] = FullName(tag),
                [OciLayout.RefNameAnnotation] = SplitTag(tag).Tag,
            }));
        }
        return (entry, image.Config.Digest.Encoded);
    }

    private static (string Repo, string Tag) SplitTag(string tag)
    {
        int colon = tag.LastIndexOf(':');
        return colon > tag.LastIndexOf('/') ? (tag[..colon], tag[(colon + 1)..]) : (tag, "latest");
    }
}
