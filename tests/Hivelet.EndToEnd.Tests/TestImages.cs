using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>Small images built in code for harness tests (no binaries needed).</summary>
internal static class TestImages
{
    public static ImageDefinition Small(string name, string architecture = "amd64", string? variant = null,
        ManifestFormat format = ManifestFormat.Oci) =>
        new ImageDefinition { Architecture = architecture, Variant = variant, Format = format, Cmd = ["/hello"] }
            .Layer(new LayerDefinition().Dir("etc/").File("etc/image-name", $"{name}\n").File("hello", $"{name} {architecture}\n", mode: 0b111_101_101))
            .Layer(new LayerDefinition().Dir("etc/").Whiteout("etc/image-name").Symlink("hi", "hello"));

    public static BuiltIndex TwoPlatformIndex(ManifestFormat format) => ImageFactory.BuildIndex(
        [
            ImageFactory.Build(Small("multi", "amd64", null, format)),
            ImageFactory.Build(Small("multi", "arm64", "v8", format)),
        ], format);
}
