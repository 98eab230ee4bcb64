using System.Text;
using Hivelet.Runtime.Lifecycle;

namespace Hivelet.Runtime.Tests.Containers;

public sealed class StartFramesTests
{
    [Fact]
    public async Task FramesRoundTripThroughAStream()
    {
        using var ms = new MemoryStream();
        ms.Write(StartFrames.Encode(FrameType.Started, "1240"u8));
        ms.Write(StartFrames.Encode(FrameType.Stdout, "hello\n"u8));
        ms.Write(StartFrames.Encode(FrameType.Exit, "137 1"u8));
        ms.Position = 0;

        var started = await StartFrames.ReadAsync(ms);
        var output = await StartFrames.ReadAsync(ms);
        var exit = await StartFrames.ReadAsync(ms);

        Assert.Equal(1240, started!.Value.StartedPid);
        Assert.Equal(("hello\n", FrameType.Stdout), (output!.Value.Text, output.Value.Type));
        Assert.Equal((137, true), exit!.Value.ExitStatus);
        Assert.Null(await StartFrames.ReadAsync(ms));
    }

    [Fact]
    public void HeaderIsTypeThenBigEndianLength()
    {
        var bytes = StartFrames.Encode(FrameType.Error, Encoding.UTF8.GetBytes("127 not found"));
        Assert.Equal([5, 0, 0, 0, 13], bytes[..5]);
        Assert.Equal([7, 0, 0, 0, 4, 0, 24, 0, 80], StartFrames.Resize(24, 80));
    }

    [Fact]
    public void ErrorPayloadSplitsCodeAndMessage()
    {
        var f = new Frame(FrameType.Error, Encoding.UTF8.GetBytes("126 exec: \"/etc\": permission denied"));
        Assert.Equal((126, "exec: \"/etc\": permission denied"), f.ErrorStatus);
        Assert.Equal((125, "garbage"), new Frame(FrameType.Error, "garbage"u8.ToArray()).ErrorStatus);
    }

    [Fact]
    public async Task ATruncatedFrameThrows()
    {
        using var ms = new MemoryStream(StartFrames.Encode(FrameType.Stdout, "hello"u8)[..7]);
        await Assert.ThrowsAsync<EndOfStreamException>(() => StartFrames.ReadAsync(ms));
    }
}
