using System.Globalization;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>run, ps, stop, kill, rm and reconcile with the published binary and the fixture image (root).</summary>
public sealed class ContainerLifecycleTests
{
    [Fact]
    public async Task Run_prints_from_inside_and_exits_with_the_containers_code()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var pid = await c.Cli.RunAsync("run", "--rm", ContainerCli.Image, "pid");
        Assert.True(pid.ExitCode == 0, pid.ToString());
        Assert.Contains("pid: 1", pid.Stdout, StringComparison.Ordinal);

        var exit = await c.Cli.RunAsync("run", "--rm", "--entrypoint", "/bin/fixture", ContainerCli.Image, "exit", "7");
        Assert.True(exit.ExitCode == 7, exit.ToString());
        Assert.Empty(Directory.GetDirectories(c.ContainersDir));
    }

    [Fact]
    public async Task Exit_codes_125_for_a_bad_flag_127_for_a_missing_command()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var bad = await c.Cli.RunAsync("run", "--no-such-flag", ContainerCli.Image);
        Assert.Equal(125, bad.ExitCode);
        var missing = await c.Cli.RunAsync("run", "--rm", "--entrypoint", "/no/such/program", ContainerCli.Image);
        Assert.True(missing.ExitCode == 127, missing.ToString());
        Assert.Contains("no such file or directory", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detached_run_shows_up_then_stop_kills_after_the_grace_and_rm_leaves_nothing()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var run = await c.Cli.RunOkAsync("run", "-d", "--name", "sleeper", ContainerCli.Image, "sleep", "60");
        var id = run.Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", id);
        var ps = await c.Cli.RunOkAsync("ps");
        Assert.Contains("Up ", ps.Stdout, StringComparison.Ordinal);
        Assert.Contains("sleeper", ps.Stdout, StringComparison.Ordinal);

        // The fixture's sleep does not handle SIGTERM as pid 1: the grace runs out and SIGKILL follows.
        var stop = await c.Cli.RunOkAsync("stop", "-t", "1", "sleeper");
        Assert.Equal("sleeper", stop.Stdout.Trim());
        var wait = await c.Cli.RunOkAsync("wait", "sleeper");
        Assert.Equal("137", wait.Stdout.Trim());
        Assert.Contains("Exited (137)", (await c.Cli.RunOkAsync("ps", "-a")).Stdout, StringComparison.Ordinal);

        await c.Cli.RunOkAsync("rm", "sleeper");
        Assert.False(Directory.Exists(Path.Combine(c.ContainersDir, id)));
        Assert.DoesNotContain(id, await File.ReadAllTextAsync("/proc/self/mountinfo"), StringComparison.Ordinal);
        Assert.False(Directory.Exists($"/sys/fs/cgroup/memory/hivelet/{id}"));
        Assert.False(Directory.Exists($"/sys/fs/cgroup/pids/hivelet/{id}"));
    }

    [Fact]
    public async Task A_killed_monitor_is_reconciled_as_exited_on_the_next_ps()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var id = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Image, "sleep", "60")).Stdout.Trim();
        var status = await File.ReadAllLinesAsync(Path.Combine(c.ContainersDir, id, "status"));
        var monitor = int.Parse(status.First(l => l.StartsWith("monitor_pid=", StringComparison.Ordinal))[12..], CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(monitor).Kill();
        await Task.Delay(200);

        var ps = await c.Cli.RunOkAsync("ps", "-a");
        Assert.Contains("Exited (137)", ps.Stdout, StringComparison.Ordinal);
        var inspect = await c.Cli.RunOkAsync("inspect", id);
        Assert.Contains("monitor died", inspect.Stdout, StringComparison.Ordinal);
    }
}
