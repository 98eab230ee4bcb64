using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Tests.Containers;

public sealed class PsStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0.5, "Less than a second")]
    [InlineData(1, "1 second")]
    [InlineData(3, "3 seconds")]
    [InlineData(59, "59 seconds")]
    [InlineData(60, "About a minute")]
    [InlineData(119, "About a minute")]
    [InlineData(120, "2 minutes")]
    [InlineData(3599, "59 minutes")]
    [InlineData(3600, "About an hour")]
    [InlineData(3 * 3600, "3 hours")]
    [InlineData(47 * 3600, "47 hours")]
    [InlineData(3 * 86400, "3 days")]
    [InlineData(20 * 86400, "2 weeks")]
    [InlineData(90 * 86400, "3 months")]
    [InlineData(800 * 86400, "2 years")]
    public void HumanDurationMatchesDocker(double seconds, string expected) =>
        Assert.Equal(expected, ContainerState.HumanDuration(TimeSpan.FromSeconds(seconds)));

    private static ContainerStatus Status(string state, int exit = 0) => new()
    {
        State = state,
        ExitCode = exit,
        StartedAt = Now.AddSeconds(-3),
        FinishedAt = state == "running" ? null : Now.AddMinutes(-2),
    };

    [Fact]
    public void Up() => Assert.Equal("Up 3 seconds", ContainerState.From(Status("running"), null).Describe(Now));

    [Fact]
    public void UpWithHealth()
    {
        Assert.Equal("Up 3 seconds (healthy)", ContainerState.From(Status("running"), new HealthState { Status = "healthy" }).Describe(Now));
        Assert.Equal("Up 3 seconds (health: starting)", ContainerState.From(Status("running"), new HealthState { Status = "starting" }).Describe(Now));
    }

    [Fact]
    public void Exited() => Assert.Equal("Exited (137) 2 minutes ago", ContainerState.From(Status("exited", 137), null).Describe(Now));

    [Fact]
    public void Restarting()
    {
        var s = ContainerState.From(Status("restarting", 1) with { FinishedAt = Now.AddSeconds(-1) }, null);
        Assert.Equal("Restarting (1) 1 second ago", s.Describe(Now));
        Assert.True(s.Running && s.Restarting);
    }

    [Fact]
    public void AStartThatFailedIsExitedWithItsError()
    {
        var s = ContainerState.From(new ContainerStatus { State = "exited", ExitCode = 127, FinishedAt = Now, Error = "exec: \"nope\": executable file not found in $PATH" }, null);
        Assert.Equal("exited", s.Status);
        Assert.Equal("Exited (127) Less than a second ago", s.Describe(Now));
    }
}
