using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// Platform selection from a multi-arch busybox index (OCI index and Docker manifest list) served by
/// the real registry: what `image inspect` says and which ELF machine the unpacked busybox is for.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class PlatformTests(RegistryFixture fixture)
{
    private const int ElfX86_64 = 62;
    private const int ElfAArch64 = 183;
    private const int ElfArm = 40;

    internal static BuiltIndex BusyboxIndex(ManifestFormat format, bool withArm64 = true)
    {
        var images = new List<BuiltImage> { ImageFactory.Build(FixtureSets.Busybox(PullSupport.Busybox("amd64"), "amd64", null, format)) };
        if (withArm64)
            images.Add(ImageFactory.Build(FixtureSets.Busybox(PullSupport.Busybox("arm64"), "arm64", "v8", format)));
        images.Add(ImageFactory.Build(FixtureSets.Busybox(PullSupport.Busybox("armhf"), "arm", "v7", format)));
        return ImageFactory.BuildIndex(images, format);
    }

    [E2ETheory(Peers.Registry)]
    [InlineData(ManifestFormat.Oci, null, "amd64", null, ElfX86_64)]
    [InlineData(ManifestFormat.Oci, "linux/arm64", "arm64", "v8", ElfAArch64)]
    [InlineData(ManifestFormat.Oci, "linux/arm/v7", "arm", "v7", ElfArm)]
    [InlineData(ManifestFormat.Docker, null, "amd64", null, ElfX86_64)]
    [InlineData(ManifestFormat.Docker, "linux/arm64", "arm64", "v8", ElfAArch64)]
    [InlineData(ManifestFormat.Docker, "linux/arm/v7", "arm", "v7", ElfArm)]
    public async Task Pull_of_a_multi_arch_index_picks_the_requested_platform_and_unpacks_its_binary(
        ManifestFormat format, string? platform, string architecture, string? variant, int elfMachine)
    {
        var index = BusyboxIndex(format);
        var reference = await PullSupport.PushAsync(fixture.Registry, $"platform/busybox-{format.ToString().ToLowerInvariant()}", "multi", index);
        using var cli = new HiveletCli();

        string[] args = platform is null ? ["pull", reference] : ["pull", "--platform", platform, reference];
        (await cli.RunAsync(args)).EnsureSuccess();

        var inspect = await PullSupport.InspectAsync(cli, reference);
        Assert.Equal(architecture, PullSupport.StringOf(inspect, "Architecture"));
        Assert.Equal(variant, PullSupport.StringOf(inspect, "Variant"));
        Assert.Equal("linux", PullSupport.StringOf(inspect, "Os"));
        var chosen = index.Images.Single(i => i.Platform.Architecture == architecture);
        Assert.Equal(chosen.ImageId.ToString(), PullSupport.StringOf(inspect, "Id"));

        // One layer: its snapshot directory holds the whole tree with either driver.
        var busybox = Path.Combine(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(chosen)[^1]), "bin", "busybox");
        Assert.Equal(elfMachine, PullSupport.ElfMachine(busybox));
    }

    [E2EFact(Peers.Registry)]
    public async Task Arm64_request_falls_back_to_arm_v7_when_the_index_has_no_arm64()
    {
        var index = BusyboxIndex(ManifestFormat.Oci, withArm64: false);
        var reference = await PullSupport.PushAsync(fixture.Registry, "platform/no-arm64", "v1", index);
        using var cli = new HiveletCli();

        (await cli.RunAsync("pull", "--platform", "linux/arm64", reference)).EnsureSuccess();

        var inspect = await PullSupport.InspectAsync(cli, reference);
        Assert.Equal("arm", PullSupport.StringOf(inspect, "Architecture"));
        Assert.Equal("v7", PullSupport.StringOf(inspect, "Variant"));
        var chosen = index.Images.Single(i => i.Platform.Architecture == "arm");
        var busybox = Path.Combine(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(chosen)[^1]), "bin", "busybox");
        Assert.Equal(ElfArm, PullSupport.ElfMachine(busybox));
    }

    [E2EFact(Peers.Registry)]
    public async Task Platform_nobody_offers_fails_with_a_message_listing_the_offered_platforms()
    {
        var index = BusyboxIndex(ManifestFormat.Docker);
        var reference = await PullSupport.PushAsync(fixture.Registry, "platform/unoffered", "v1", index);
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", "--platform", "linux/s390x", reference);

        Assert.Equal(125, result.ExitCode);
        var error = PullSupport.SingleErrorLine(result);
        Assert.Contains("linux/s390x", error, StringComparison.Ordinal);
        foreach (var offered in new[] { "linux/amd64", "linux/arm64/v8", "linux/arm/v7" })
            Assert.Contains(offered, error, StringComparison.Ordinal);
        var images = (await cli.RunAsync("images", "-q")).EnsureSuccess();
        Assert.Equal("", images.Stdout.Trim());
    }
}
