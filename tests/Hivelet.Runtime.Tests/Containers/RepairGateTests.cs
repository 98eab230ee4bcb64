using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Tests.Containers;

public sealed class RepairGateTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("hivelet-gate-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Procs => Path.Combine(_root, RepairGate.DirectoryName);

    [Fact]
    public void A_new_root_is_repaired_once_then_not_again_on_the_same_boot()
    {
        using (var first = new RepairGate(_root, "boot-a"))
        {
            Assert.True(first.Needed);
            first.Repaired();
            Assert.False(first.Needed);
        }
        using var second = new RepairGate(_root, "boot-a");
        Assert.False(second.Needed);
    }

    [Fact]
    public void A_new_boot_means_repair()
    {
        using (var first = new RepairGate(_root, "boot-a"))
            first.Repaired();
        using var second = new RepairGate(_root, "boot-b");
        Assert.True(second.Needed);
    }

    [Fact]
    public void The_marker_exists_while_the_command_runs_and_goes_on_dispose()
    {
        var gate = new RepairGate(_root, "boot-a");
        var marker = Path.Combine(Procs, RepairGate.MarkerName(Environment.ProcessId, ProcessInfo.StartTime(Environment.ProcessId)));
        Assert.True(File.Exists(marker));
        gate.Dispose();
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void A_marker_of_a_dead_or_reused_pid_means_repair_and_is_forgotten_after_it()
    {
        using (var first = new RepairGate(_root, "boot-a"))
            first.Repaired();
        // This pid with another start time: the command that had it died (kill -9) and the pid was reused.
        var dead = Path.Combine(Procs, RepairGate.MarkerName(Environment.ProcessId, ProcessInfo.StartTime(Environment.ProcessId) + 1));
        File.WriteAllText(dead, "");
        using (var gate = new RepairGate(_root, "boot-a"))
        {
            Assert.True(gate.Needed);
            gate.Repaired();
            Assert.False(File.Exists(dead));
        }
        using var next = new RepairGate(_root, "boot-a");
        Assert.False(next.Needed);
    }

    [Fact]
    public void A_marker_of_a_running_command_is_not_a_reason_to_repair()
    {
        using (var first = new RepairGate(_root, "boot-a"))
        {
            first.Repaired();
            // first is still "running" (not disposed) while the second command starts.
            using var second = new RepairGate(_root, "boot-a");
            Assert.False(second.Needed);
        }
    }

    [Theory]
    [InlineData("123-456", true, 123, 456UL)]
    [InlineData("123", false, 0, 0UL)]
    [InlineData("x-1", false, 0, 0UL)]
    [InlineData("-1", false, 0, 0UL)]
    public void Marker_names_parse_as_pid_and_start_time(string name, bool ok, int pid, ulong start)
    {
        Assert.Equal(ok, RepairGate.TryParseMarker(name, out int p, out ulong s));
        if (ok)
            Assert.Equal((pid, start), (p, s));
    }
}
