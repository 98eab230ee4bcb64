using System.Security.Cryptography;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// kill -9 in the middle of a pull: during the download (the next pull resumes with Range requests,
/// counted by a proxy) and while layers unpack side by side (the next pull succeeds and the leftovers go away).
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class PullResumeTests(RegistryFixture fixture)
{
    private const string BigFile = "big/blob.bin";

    // About 64 MB of incompressible data in the bottom layer plus many small files above it.
    private static readonly Lazy<BuiltImage> Big = new(() =>
    {
        var random = new Random(0x4E5);
        var data = new byte[56 * 1024 * 1024];
        random.NextBytes(data);
        var bottom = new LayerDefinition(LayerCompression.None) { CreatedBy = "big file" }.Dir("big/").File(BigFile, data);
        var top = new LayerDefinition(LayerCompression.Gzip) { CreatedBy = "many files" }.Dir("many/");
        for (int i = 0; i < 2000; i++)
        {
            var small = new byte[4096];
            random.NextBytes(small);
            top.File($"many/f{i:D4}", small);
        }
        return ImageFactory.Build(new ImageDefinition { Cmd = ["/bin/true"] }.Layer(bottom).Layer(top));
    });

    private static long TotalBytes(BuiltImage image) => image.Blobs().Sum(b => b.Size);

    [E2EFact(Peers.Registry)]
    public async Task Pull_killed_during_download_resumes_and_fetches_less_than_the_whole_image()
    {
        var image = Big.Value;
        await PullSupport.PushAsync(fixture.Registry, "resume/download", "v1", image);
        using var proxy = new CountingProxy(fixture.Registry.Port);
        var reference = $"{proxy.Host}/resume/download:v1";
        using var cli = new HiveletCli();
        long total = TotalBytes(image);
        long holdAt = total * 4 / 10;

        proxy.HoldAfter(holdAt);
        using (var run = BackgroundRun.Start(cli, "pull", reference))
        {
            await proxy.WaitForBytesAsync(holdAt, TimeSpan.FromSeconds(90));
            run.KillHard();
        }
        proxy.Release();
        proxy.ResetCount();

        (await cli.RunAsync("pull", reference)).EnsureSuccess();

        long second = proxy.DownstreamBytes;
        Assert.True(second < total - holdAt / 2,
            $"the second pull fetched {second} bytes of {total}: it did not resume the {holdAt} bytes already fetched");
        await AssertPulledAsync(cli, reference, image);
    }

    [E2EFact(Peers.Registry)]
    public async Task Pull_killed_during_concurrent_unpack_succeeds_next_time_and_leaves_no_temp_snapshots()
    {
        var image = Big.Value;
        await PullSupport.PushAsync(fixture.Registry, "resume/unpack", "v1", image);
        using var proxy = new CountingProxy(fixture.Registry.Port);
        var reference = $"{proxy.Host}/resume/unpack:v1";
        using var cli = new HiveletCli();
        var tmp = Path.Combine(cli.Root, "snapshots", "tmp");
        long holdAt = TotalBytes(image) * 4 / 10;

        // Both layers stream into their own unpack directories; the bottom one is held mid-way, so
        // neither can be committed (the top waits for its parent) when the kill comes.
        proxy.HoldAfter(holdAt);
        using (var run = BackgroundRun.Start(cli, "pull", reference))
        {
            await proxy.WaitForBytesAsync(holdAt, TimeSpan.FromSeconds(90));
            await run.WaitUntilAsync(
                () => Directory.Exists(tmp) && Directory.EnumerateFileSystemEntries(tmp).Count() >= 2,
                "both layers unpacking", TimeSpan.FromSeconds(90));
            run.KillHard();
        }
        proxy.Release();
        Assert.False(Directory.Exists(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(image)[^1])),
            "the top layer was committed although its parent never finished");
        Assert.False(Directory.Exists(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(image)[0])),
            "the bottom layer was committed although its download was held");
        Assert.True(Directory.EnumerateFileSystemEntries(tmp).Count() >= 2);

        (await cli.RunAsync("pull", reference)).EnsureSuccess();
        (await cli.RunAsync("images")).EnsureSuccess();

        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
        await AssertPulledAsync(cli, reference, image);
    }

    private static async Task AssertPulledAsync(HiveletCli cli, string reference, BuiltImage image)
    {
        var ids = (await cli.RunAsync("images", "-q", "--no-trunc")).EnsureSuccess();
        Assert.Contains(image.ImageId.ToString(), ids.Stdout, StringComparison.Ordinal);
        var inspect = await PullSupport.InspectAsync(cli, reference);
        Assert.Equal(image.Layers.Count, inspect.GetProperty("RootFS").GetProperty("Layers").GetArrayLength());

        var file = Path.Combine(PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(image)[0]), BigFile);
        await using var stream = File.OpenRead(file);
        Assert.Equal(56L * 1024 * 1024, stream.Length);
        Assert.Equal(ExpectedBigFileHash(), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
    }

    private static string ExpectedBigFileHash()
    {
        var random = new Random(0x4E5);
        var data = new byte[56 * 1024 * 1024];
        random.NextBytes(data);
        return Convert.ToHexStringLower(SHA256.HashData(data));
    }
}
