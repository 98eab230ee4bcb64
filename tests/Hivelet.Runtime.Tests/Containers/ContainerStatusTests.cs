using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Tests.Containers;

public sealed class ContainerStatusTests
{
    private const string Running = """
        state=running
        monitor_pid=1234
        monitor_start=5678
        pid=1240
        pid_start=5690
        started_at=2026-11-25T03:00:00.123456789Z
        finished_at=
        exit_code=0
        oom_killed=0
        restart_count=2
        error=
        future_key=whatever
        """;

    [Fact]
    public void ParsesEveryKeyAndIgnoresUnknownOnes()
    {
        var s = ContainerStatus.Parse(Running);
        Assert.Equal("running", s.State);
        Assert.Equal(1234, s.MonitorPid);
        Assert.Equal(5678UL, s.MonitorStart);
        Assert.Equal(1240, s.Pid);
        Assert.Equal(2, s.RestartCount);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 3, 0, 0, TimeSpan.Zero).AddTicks(1234567), s.StartedAt);
        Assert.Null(s.FinishedAt);
        Assert.False(s.IsExited);
    }

    [Fact]
    public void FormatRoundTrips()
    {
        var s = ContainerStatus.Parse(Running) with { State = "exited", ExitCode = 137, OomKilled = true, Error = "monitor died" };
        var again = ContainerStatus.Parse(s.Format());
        Assert.Equal(s, again);
    }

    [Fact]
    public void ALiveMonitorWithTheRecordedStartTimeNeedsNothing() =>
        Assert.False(LiveState.NeedsReconcile(ContainerStatus.Parse(Running), pid => pid == 1234 ? 5678UL : 0));

    [Fact]
    public void ADeadMonitorNeedsReconcile() =>
        Assert.True(LiveState.NeedsReconcile(ContainerStatus.Parse(Running), _ => 0));

    [Fact]
    public void AReusedMonitorPidNeedsReconcile() =>
        Assert.True(LiveState.NeedsReconcile(ContainerStatus.Parse(Running), _ => 9999));

    [Fact]
    public void AnExitedStatusIsNeverReconciled() =>
        Assert.False(LiveState.NeedsReconcile(ContainerStatus.Parse("state=exited\nmonitor_pid=1\n"), _ => 0));

    [Fact]
    public void ReconciledStatusIsExited137MonitorDied()
    {
        var now = DateTimeOffset.UtcNow;
        var r = LiveState.Reconciled(ContainerStatus.Parse(Running), now);
        Assert.Equal(("exited", 137, "monitor died", 0, now), (r.State, r.ExitCode, r.Error, r.Pid, r.FinishedAt!.Value));
        Assert.Equal(2, r.RestartCount);
    }

    [Fact]
    public void LiveStateRewritesTheStatusOfADeadMonitor()
    {
        using var t = new TempContainers();
        var c = t.Add();
        File.WriteAllText(Path.Combine(t.Store.BundleDir(c.Id), "status"), Running);
        var live = new LiveState(t.Store, cgroups: null) { StartTimeOf = _ => 0 };

        var state = live.Read(c);

        Assert.Equal(("exited", 137, "monitor died", false), (state.Status, state.ExitCode, state.Error, state.Running));
        Assert.Equal("exited", ContainerStatus.Read(t.Store.BundleDir(c.Id))!.State);
    }

    [Fact]
    public void NoStatusFileIsCreated()
    {
        var s = ContainerState.From(null, null);
        Assert.Equal("created", s.Status);
        Assert.Equal("Created", s.Describe(DateTimeOffset.UtcNow));
        Assert.Equal(ContainerState.ZeroTime, s.StartedAt);
    }

    [Fact]
    public void ProcStatStartTimeIsCountedFromTheLastParenthesis()
    {
        var stat = "42 (we) ird) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        Assert.Equal(987654UL, ProcessInfo.ParseStartTime(stat));
        Assert.Equal(0UL, ProcessInfo.ParseStartTime(stat.Replace(") S ", ") Z ", StringComparison.Ordinal)));
        Assert.NotEqual(0UL, ProcessInfo.StartTime(Environment.ProcessId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("monitor_pid=1234\nmonitor_start=5678\n")]
    public void A_status_without_a_state_is_a_dead_monitor_not_a_clean_exit(string text)
    {
        // A power loss can leave the file empty or cut (non-exited states are not fsynced).
        var s = ContainerStatus.Parse(text);
        Assert.False(s.IsExited);
        Assert.Equal(ContainerStatus.Unknown, s.State);
        Assert.True(LiveState.NeedsReconcile(s, _ => 0));
        var r = LiveState.Reconciled(s, DateTimeOffset.UnixEpoch);
        Assert.Equal(137, r.ExitCode);
        Assert.Equal("monitor died", r.Error);
    }
}
