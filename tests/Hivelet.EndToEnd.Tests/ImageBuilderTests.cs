using System.Formats.Tar;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;
using Hivelet.Images.Oci;

namespace Hivelet.EndToEnd.Tests;

/// <summary>ImageBuilder's output is reproducible and readable by a reference tool.</summary>
public sealed class ImageBuilderTests
{
    [Fact]
    public void Same_definition_gives_the_same_digests()
    {
        var a = ImageFactory.Build(FixtureSets.Layered());
        var b = ImageFactory.Build(FixtureSets.Layered());
        Assert.Equal(a.Manifest.Digest, b.Manifest.Digest);
        Assert.Equal(a.Layers.Select(l => l.DiffId), b.Layers.Select(l => l.DiffId));
    }

    [Fact]
    public void Config_diff_ids_are_the_digests_of_the_uncompressed_layers()
    {
        var image = ImageFactory.Build(FixtureSets.Layered());
        Assert.Equal(image.Layers.Select(l => Digest.ComputeSha256(l.Tar).ToString()), image.ParsedConfig.RootFs.DiffIds);
        Assert.Equal(
            [MediaTypes.OciLayerGzip, MediaTypes.OciLayerZstd, MediaTypes.OciLayer],
            image.ParsedManifest.Layers.Select(l => l.MediaType));
    }

    [Fact]
    public void Layer_tar_carries_owners_modes_links_and_whiteouts_as_described()
    {
        var image = ImageFactory.Build(FixtureSets.Layered());
        var l0 = ReadEntries(image.Layers[0].Tar);
        Assert.Equal(0b100_111_101_101, (int)l0["usr/bin/su-like"].Mode);
        Assert.Equal(TarEntryType.HardLink, l0["usr/bin/tool-link"].EntryType);
        Assert.Equal("usr/bin/tool", l0["usr/bin/tool-link"].LinkName);
        Assert.Equal(1000, l0["home/user/notes.txt"].Uid);
        Assert.Equal(TarEntryType.Fifo, l0["run/fifo"].EntryType);
        Assert.Equal("fixture", ((PaxTarEntry)l0["usr/share/doc/a.txt"]).ExtendedAttributes["SCHILY.xattr.user.hivelet"]);
        var l1 = ReadEntries(image.Layers[1].Tar);
        Assert.Contains("etc/.wh.to-delete", l1.Keys);
        Assert.Contains("var/cache/app/.wh..wh..opq", l1.Keys);
    }

    [Fact]
    public void Docker_archive_manifest_points_at_files_in_the_archive()
    {
        var image = ImageFactory.Build(TestImages.Small("archive"));
        foreach (var style in new[] { DockerArchiveStyle.Legacy, DockerArchiveStyle.OciCompatible })
        {
            var content = DockerArchive.Create(image, ["hivelet/archive:v1"], style);
            var entries = JsonSerializer.Deserialize(content.Read("manifest.json")!, FixtureJsonContext.Default.ListDockerSaveEntry)!;
            var entry = Assert.Single(entries);
            Assert.Equal(["hivelet/archive:v1"], entry.RepoTags);
            Assert.Equal(image.Config.Content, content.Read(entry.Config));
            Assert.Equal(image.Layers.Select(l => l.Tar), entry.Layers.Select(p => content.Read(p)!));
        }
    }

    [E2EFact(Peers.Skopeo)]
    public async Task Skopeo_reads_every_archive_style_with_the_same_config()
    {
        var image = ImageFactory.Build(TestImages.Small("skopeo"));
        using var dir = new TempDirectory("hivelet-e2e-archives");
        DockerArchive.Create(image, ["hivelet/skopeo:v1"], DockerArchiveStyle.Legacy).WriteTar(dir.Combine("legacy.tar"));
        DockerArchive.Create(image, ["hivelet/skopeo:v1"], DockerArchiveStyle.OciCompatible).WriteTar(dir.Combine("docker25.tar"));
        OciLayout.Create(new LayoutRef("v1", image)).WriteTar(dir.Combine("oci.tar"));
        OciLayout.Create(new LayoutRef("v1", image)).WriteDirectory(dir.Combine("oci"));

        foreach (var source in new[]
                 {
                     $"docker-archive:{dir.Combine("legacy.tar")}", $"docker-archive:{dir.Combine("docker25.tar")}",
                     $"oci-archive:{dir.Combine("oci.tar")}:v1", $"oci:{dir.Combine("oci")}:v1",
                 })
        {
            var config = await Skopeo.InspectConfigAsync(source);
            Assert.Equal(image.Config.Digest, Digest.ComputeSha256(System.Text.Encoding.UTF8.GetBytes(config.TrimEnd('\n'))));
        }
    }

    private static Dictionary<string, TarEntry> ReadEntries(byte[] tar)
    {
        var result = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry(copyData: true) is { } entry)
            result.Add(entry.Name, entry);
        return result;
    }
}
