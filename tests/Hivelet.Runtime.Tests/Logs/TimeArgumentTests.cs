using Hivelet.Errors;
using Hivelet.Runtime.Logs;

namespace Hivelet.Runtime.Tests.Logs;

public class TimeArgumentTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5h", 5400)]
    [InlineData("90s", 90)]
    [InlineData("500ms", 0.5)]
    [InlineData("-10s", -10)]
    public void Durations_are_relative_to_now(string value, double secondsAgo) =>
        Assert.Equal(Now - TimeSpan.FromSeconds(secondsAgo), TimeArgument.Parse(value, Now, "--since"));

    [Fact]
    public void Unix_seconds_with_and_without_fraction()
    {
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764043200), TimeArgument.Parse("1764043200", Now, "--since"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764043200).AddMilliseconds(250),
            TimeArgument.Parse("1764043200.25", Now, "--since"));
        Assert.Equal(DateTimeOffset.UnixEpoch, TimeArgument.Parse("0", Now, "--since"));
    }

    [Theory]
    [InlineData("2026-11-25T03:00:00Z", "2026-11-25T03:00:00Z")]
    [InlineData("2026-11-25T03:00:00.123456789Z", "2026-11-25T03:00:00.1234567Z")]
    [InlineData("2026-11-25T05:00:00+02:00", "2026-11-25T03:00:00Z")]
    [InlineData("2026-11-25T03:00Z", "2026-11-25T03:00:00Z")]
    public void Rfc3339_times(string value, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            TimeArgument.Parse(value, Now, "--since"));

    [Fact]
    public void A_time_without_zone_is_local()
    {
        var local = new DateTimeOffset(new DateTime(2026, 11, 25, 3, 0, 0, DateTimeKind.Local));
        Assert.Equal(local, TimeArgument.Parse("2026-11-25T03:00:00", Now, "--since"));
        Assert.Equal(new DateTimeOffset(new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Local)),
            TimeArgument.Parse("2026-11-25", Now, "--until"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10x")]
    [InlineData("yesterday")]
    [InlineData("2026-13-45")]
    [InlineData("12.3.4")]
    public void Bad_values_name_the_flag(string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => TimeArgument.Parse(value, Now, "--since"));
        Assert.Contains("--since", e.Message, StringComparison.Ordinal);
    }
}
