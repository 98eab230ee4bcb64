using System.Diagnostics;
using System.Globalization;
using Hivelet.EndToEnd.Tests.Containers;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>cgroup limits on this host (hybrid v1 here, v2 elsewhere) set through `hivelet run`.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class LimitTests
{
    [Fact]
    public async Task A_memory_hog_is_oom_killed_137_and_inspect_says_oomkilled()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        // The string doubles until the 16 MiB limit (no swap on top) is hit.
        var id = (await c.Cli.RunOkAsync("run", "-d", "-m", "16m", "--memory-swap", "16m", ContainerCli.Busybox, "sh", "-c",
            "a=xxxxxxxxxxxxxxxx; while :; do a=\"$a$a\"; done")).Stdout.Trim();
        Assert.Equal("137", (await c.Cli.RunOkAsync("wait", id)).Stdout.Trim());
        var state = (await c.InspectAsync(id)).GetProperty("State");
        Assert.True(state.GetProperty("OOMKilled").GetBoolean(), state.ToString());
        Assert.Equal(137, state.GetProperty("ExitCode").GetInt32());

        // A container that stays under its limit is not reported as OOM-killed.
        var fine = (await c.Cli.RunOkAsync("run", "-d", "-m", "16m", ContainerCli.Busybox, "true")).Stdout.Trim();
        Assert.Equal("0", (await c.Cli.RunOkAsync("wait", fine)).Stdout.Trim());
        Assert.False((await c.InspectAsync(fine)).GetProperty("State").GetProperty("OOMKilled").GetBoolean());
    }

    [Fact]
    public async Task A_fork_bomb_stops_at_the_pids_limit_and_the_host_still_forks()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", "--pids-limit", "16", ContainerCli.Busybox, "sleep", "300")).Stdout.Trim();
        // A bounded bomb joined to the container's cgroup: ash gives up (exit 2) on the first fork the limit refuses.
        var bomb = await c.Cli.RunAsync("exec", id, "sh", "-c",
            "i=0; while [ $i -lt 64 ]; do sleep 300 >/dev/null 2>&1 & i=$((i+1)); done; echo all-spawned");
        Assert.True(bomb.ExitCode == 2, bomb.ToString());
        Assert.Contains("can't fork", bomb.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("all-spawned", bomb.Stdout, StringComparison.Ordinal);

        var pid = (await c.InspectAsync(id)).GetProperty("State").GetProperty("Pid").GetInt32();
        var group = CgroupDir(pid, "pids");
        Assert.Equal("16", (await File.ReadAllTextAsync(Path.Combine(group, "pids.max"))).Trim());
        var current = int.Parse((await File.ReadAllTextAsync(Path.Combine(group, "pids.current"))).Trim(), CultureInfo.InvariantCulture);
        // pid 1 plus the sleeps that got through, up to the limit; the container itself lives on.
        Assert.InRange(current, 10, 16);
        Assert.True((await c.InspectAsync(id)).GetProperty("State").GetProperty("Running").GetBoolean());
        var events = await File.ReadAllTextAsync(Path.Combine(group, "pids.events"));
        Assert.DoesNotContain("max 0", events, StringComparison.Ordinal);

        // The host is unharmed: new processes and containers still start while the bomb holds its 16.
        using (var host = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!)
        {
            await host.WaitForExitAsync();
            Assert.Equal(0, host.ExitCode);
        }
        var other = await c.Cli.RunAsync("run", "--rm", ContainerCli.Busybox, "echo", "still here");
        Assert.True(other.ExitCode == 0, other.ToString());
        Assert.Equal("still here", other.Stdout.Trim());
    }

    [Fact]
    public async Task Cpus_quota_holds_and_stats_shows_the_memory_limit()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", "--cpus", "0.5", "-m", "64m", ContainerCli.Busybox, "sh", "-c",
            "while :; do :; done")).Stdout.Trim();
        var pid = (await c.InspectAsync(id)).GetProperty("State").GetProperty("Pid").GetInt32();

        var start = CpuNanoseconds(pid);
        var wall = Stopwatch.StartNew();
        while (wall.Elapsed < TimeSpan.FromSeconds(2))
            await Task.Delay(100);
        var used = CpuNanoseconds(pid) - start;
        var share = used / (wall.Elapsed.TotalMilliseconds * 1_000_000);
        // Half a CPU: never clearly more (one period of slack), and the spinning loop did run.
        Assert.InRange(share, 0.02, 0.65);

        var stats = await c.Cli.RunOkAsync("stats", "--no-stream", id);
        Assert.Contains("64MiB", stats.Stdout, StringComparison.Ordinal);
        Assert.Contains(id[..12], stats.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The container's group directory for <paramref name="controller"/> (v1) or its one v2 group.</summary>
    internal static string CgroupDir(int pid, string controller)
    {
        foreach (var line in File.ReadAllLines($"/proc/{pid}/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
                continue;
            var controllers = parts[1].Split(',');
            if (controllers.Contains(controller))
            {
                var mount = Directory.Exists($"/sys/fs/cgroup/{parts[1]}") ? parts[1] : controller;
                return $"/sys/fs/cgroup/{mount}{parts[2]}";
            }
            if (parts[0] == "0" && parts[1].Length == 0 && File.Exists("/sys/fs/cgroup/cgroup.controllers"))
                return "/sys/fs/cgroup" + parts[2];
        }
        throw new InvalidOperationException($"no {controller} cgroup for pid {pid}: {File.ReadAllText($"/proc/{pid}/cgroup")}");
    }

    private static double CpuNanoseconds(int pid)
    {
        var dir = CgroupDir(pid, "cpuacct");
        var v1 = Path.Combine(dir, "cpuacct.usage");
        if (File.Exists(v1))
            return double.Parse(File.ReadAllText(v1).Trim(), CultureInfo.InvariantCulture);
        var usec = File.ReadAllLines(Path.Combine(dir, "cpu.stat")).First(l => l.StartsWith("usage_usec ", StringComparison.Ordinal));
        return double.Parse(usec[11..], CultureInfo.InvariantCulture) * 1_000;
    }
}
