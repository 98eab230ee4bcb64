using Hivelet.Images.Oci;
using Hivelet.Images.Pulling;
using Hivelet.Images.Tests.Registry;
using Xunit;

namespace Hivelet.Images.Tests.Pulling;

public class LayerStreamTests
{
    private static byte[] Data(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    /// <summary>Feeds the download in writes of <paramref name="piece"/> bytes on another thread, then commits.</summary>
    private static Task Download(LayerStream tee, byte[] data, int piece, Action? beforeCommit = null) => Task.Run(async () =>
    {
        for (int at = 0; at < data.Length; at += piece)
            await tee.Writer.WriteAsync(data.AsMemory(at, Math.Min(piece, data.Length - at)));
        beforeCommit?.Invoke();
        tee.Writer.Commit();
    });

    [Theory]
    [InlineData(0, 7)]
    [InlineData(1000, 7)]
    [InlineData(256 * 1024, 4096)]
    [InlineData(3 * 256 * 1024 + 17, 16 * 1024)]
    [InlineData(2 * 1024 * 1024, 1024 * 1024)]
    public async Task The_reader_gets_every_byte_in_order_and_ends_at_commit(int length, int piece)
    {
        var data = Data(length);
        var store = new InMemoryContentStore();
        using var tee = new LayerStream(store.OpenWriter(Digest.ComputeSha256(data), data.Length));
        var download = Download(tee, data, piece);
        using var copy = new MemoryStream();
        await tee.Reader.CopyToAsync(copy);
        await download;

        Assert.Equal(data, copy.ToArray());
        Assert.True(store.Exists(Digest.ComputeSha256(data)));
        Assert.False(tee.Broken);
    }

    [Fact]
    public async Task A_restart_before_anything_reached_the_reader_is_not_a_break()
    {
        var data = Data(100_000);
        var store = new InMemoryContentStore();
        using var tee = new LayerStream(store.OpenWriter(Digest.ComputeSha256(data), data.Length));
        var download = Task.Run(async () =>
        {
            // Less than one chunk gathered, then the server ignores Range and starts over.
            await tee.Writer.WriteAsync(data.AsMemory(0, 5000));
            tee.Writer.Truncate();
            await tee.Writer.WriteAsync(data);
            tee.Writer.Commit();
        });
        using var copy = new MemoryStream();
        await tee.Reader.CopyToAsync(copy);
        await download;

        Assert.False(tee.Broken);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task A_restart_after_bytes_reached_the_reader_breaks_it_with_an_io_error()
    {
        var data = Data(1024 * 1024);
        var store = new InMemoryContentStore();
        using var tee = new LayerStream(store.OpenWriter(Digest.ComputeSha256(data), data.Length));
        var download = Task.Run(async () =>
        {
            await tee.Writer.WriteAsync(data.AsMemory(0, 600 * 1024));
            tee.Writer.Truncate();
            await tee.Writer.WriteAsync(data);
            tee.Writer.Commit();
        });
        var read = Task.Run(async () =>
        {
            using var copy = new MemoryStream();
            await tee.Reader.CopyToAsync(copy);
        });
        await Assert.ThrowsAsync<IOException>(() => read);
        await download;

        Assert.True(tee.Broken);
        Assert.True(store.Exists(Digest.ComputeSha256(data)), "the download itself still completes into the store");
    }

    [Fact]
    public async Task A_download_that_stops_ends_the_reader_with_an_io_error()
    {
        var data = Data(700 * 1024);
        var store = new InMemoryContentStore();
        var tee = new LayerStream(store.OpenWriter(Digest.ComputeSha256(data), data.Length));
        var read = Task.Run(async () =>
        {
            using var copy = new MemoryStream();
            await tee.Reader.CopyToAsync(copy);
        });
        await tee.Writer.WriteAsync(data.AsMemory(0, 300 * 1024));
        tee.Dispose();

        await Assert.ThrowsAsync<IOException>(() => read);
    }
}
