using System.Text.Json;
using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>Builds manifests, configs and indexes from definitions, deterministically.</summary>
public static class ImageFactory
{
    public static BuiltImage Build(ImageDefinition def)
    {
        var layers = def.Layers.AsParallel().AsOrdered().Select(l => LayerWriter.Build(l, def.Format)).ToList();
        var platform = new Platform { Architecture = def.Architecture, Os = def.Os, Variant = def.Variant };

        var config = new ImageConfig
        {
            Created = def.Created,
            Architecture = def.Architecture,
            Os = def.Os,
            Variant = def.Variant,
            Config = new ContainerConfig
            {
                Env = def.Env,
                Entrypoint = def.Entrypoint,
                Cmd = def.Cmd,
                WorkingDir = def.WorkingDir,
                User = def.User,
                Labels = def.Labels,
            },
            RootFs = new RootFs { DiffIds = layers.Select(l => l.DiffId.ToString()).ToList() },
            History = def.Layers.Select(l => new HistoryEntry { Created = def.Created, CreatedBy = l.CreatedBy }).ToList(),
        };
        var configBlob = new Blob(
            def.Format == ManifestFormat.Oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig,
            JsonSerializer.SerializeToUtf8Bytes(config, FixtureJson.Oci.ImageConfig));

        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = def.Format == ManifestFormat.Oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest,
            Config = configBlob.ToDescriptor(),
            Layers = layers.Select(l => l.Blob.ToDescriptor()).ToList(),
        };
        var manifestBlob = new Blob(manifest.MediaType,
            JsonSerializer.SerializeToUtf8Bytes(manifest, FixtureJson.Oci.ImageManifest));
        return new BuiltImage(manifestBlob, manifest, configBlob, config, layers, platform);
    }

    public static BuiltIndex BuildIndex(IReadOnlyList<BuiltImage> images, ManifestFormat format = ManifestFormat.Oci)
    {
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = format == ManifestFormat.Oci ? MediaTypes.OciIndex : MediaTypes.DockerManifestList,
            Manifests = images.Select(i => i.Manifest.ToDescriptor(i.Platform)).ToList(),
        };
        var blob = new Blob(index.MediaType,
            JsonSerializer.SerializeToUtf8Bytes(index, FixtureJson.Oci.ImageIndex));
        return new BuiltIndex(blob, index, images);
    }
}
