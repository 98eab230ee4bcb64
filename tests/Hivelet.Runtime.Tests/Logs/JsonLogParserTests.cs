using System.Text;
using Hivelet.Runtime.Logs;

namespace Hivelet.Runtime.Tests.Logs;

public class JsonLogParserTests
{
    [Fact]
    public void Parses_a_docker_json_file_line()
    {
        var line = """{"log":"hello \"world\"\n","stream":"stderr","time":"2026-11-25T03:00:01.123456789Z"}"""u8;
        Assert.True(JsonLogParser.TryParse(line, out var e));
        Assert.Equal(LogStream.Stderr, e.Stream);
        Assert.Equal("hello \"world\"\n", Encoding.UTF8.GetString(e.Text));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 3, 0, 1, TimeSpan.Zero).AddTicks(1234567), e.Time);
        Assert.Equal("2026-11-25T03:00:01.123456789Z", e.RawTime);
    }

    [Fact]
    public void Keeps_control_characters_and_skips_unknown_keys()
    {
        var line = """{"log":"a\u0001b\tc","attrs":{"x":"y"},"stream":"stdout","time":"2026-11-25T03:00:01Z"}"""u8;
        Assert.True(JsonLogParser.TryParse(line, out var e));
        Assert.Equal(new byte[] { (byte)'a', 1, (byte)'b', (byte)'\t', (byte)'c' }, e.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-25T03:0")]
    [InlineData("{\"log\":\"x\\n\",\"stream\":\"stdin\",\"time\":\"2026-11-25T03:00:00Z\"}")]
    [InlineData("{\"log\":\"x\\n\",\"stream\":\"stdout\"}")]
    [InlineData("{\"log\":1,\"stream\":\"stdout\",\"time\":\"2026-11-25T03:00:00Z\"}")]
    [InlineData("not json at all")]
    [InlineData("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"yesterday\"}")]
    public void Rejects_malformed_lines(string line) =>
        Assert.False(JsonLogParser.TryParse(Encoding.UTF8.GetBytes(line), out _));

    [Theory]
    [InlineData("2026-11-25T03:00:01.123456789Z", "2026-11-25T03:00:01.123456789Z")]
    [InlineData("2026-11-25T03:00:01.120000000Z", "2026-11-25T03:00:01.12Z")]
    [InlineData("2026-11-25T03:00:01.000000000Z", "2026-11-25T03:00:01Z")]
    [InlineData("2026-11-25T03:00:01Z", "2026-11-25T03:00:01Z")]
    [InlineData("2026-11-25T04:00:01.5+01:00", "2026-11-25T03:00:01.5Z")]
    public void Formats_times_as_gos_rfc3339nano(string raw, string expected)
    {
        var line = Encoding.UTF8.GetBytes($"{{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"{raw}\"}}");
        Assert.True(JsonLogParser.TryParse(line, out var e));
        Assert.Equal(expected, JsonLogParser.FormatRfc3339Nano(e));
    }
}
