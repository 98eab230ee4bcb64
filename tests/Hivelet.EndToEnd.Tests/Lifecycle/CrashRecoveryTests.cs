using System.Globalization;
using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>kill -9 of an attached `hivelet run` and of a monitor: the next command sees the truth and repairs.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class CrashRecoveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_killed_attached_cli_leaves_the_container_running_and_fully_manageable()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        using (var attached = BackgroundRun.Start(c.Cli, "run", "--name", "orphan", ContainerCli.Busybox, "sh", "-c",
                   "echo ready; while :; do sleep 1 & wait $!; done"))
        {
            await attached.WaitUntilAsync(() => attached.Stdout.Contains("ready\n", StringComparison.Ordinal), "ready", Patience);
            // kill -9 of the CLI alone: its monitor (another session) and the container carry on, as with Docker.
            attached.KillProcessOnly();
        }

        var ps = await c.Cli.RunOkAsync("ps");
        Assert.Contains("orphan", ps.Stdout, StringComparison.Ordinal);
        Assert.Contains("Up ", ps.Stdout, StringComparison.Ordinal);
        var state = (await c.InspectAsync("orphan")).GetProperty("State");
        Assert.True(state.GetProperty("Running").GetBoolean(), state.ToString());
        var pid = state.GetProperty("Pid").GetInt32();
        Assert.True(Directory.Exists($"/proc/{pid}"));

        // Its output still reaches the log, exec and stop still work, and rm leaves nothing.
        Assert.Equal("still-here\n", (await c.Cli.RunOkAsync("exec", "orphan", "echo", "still-here")).Stdout);
        await c.Cli.RunOkAsync("stop", "-t", "0", "orphan");
        Assert.Equal("137", (await c.Cli.RunOkAsync("wait", "orphan")).Stdout.Trim());
        Assert.Contains("ready", (await c.Cli.RunOkAsync("logs", "orphan")).Stdout, StringComparison.Ordinal);
        var id = (await c.InspectAsync("orphan")).GetProperty("Id").GetString()!;
        await c.Cli.RunOkAsync("rm", "orphan");
        AssertNothingLeft(c, id);
    }

    [Fact]
    public async Task A_killed_monitor_takes_its_container_down_and_the_container_can_start_again()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Busybox, "sleep", "300")).Stdout.Trim();
        var pid = (await c.InspectAsync(id)).GetProperty("State").GetProperty("Pid").GetInt32();
        var status = await File.ReadAllLinesAsync(Path.Combine(c.ContainersDir, id, "status"));
        var monitor = int.Parse(status.First(l => l.StartsWith("monitor_pid=", StringComparison.Ordinal))[12..], CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(monitor).Kill();

        var state = await c.InspectUntilAsync(id, i => !i.GetProperty("State").GetProperty("Running").GetBoolean(),
            "the container reported not running", Patience);
        Assert.Equal("exited", state.GetProperty("State").GetProperty("Status").GetString());
        Assert.Contains("Exited (137)", (await c.Cli.RunOkAsync("ps", "-a")).Stdout, StringComparison.Ordinal);
        // No process of the container may outlive its monitor unsupervised.
        await ContainerCli.UntilAsync<string>(() => Task.FromResult(IsAlive(pid) ? null : ""), $"container pid {pid} to go", Patience);

        await c.Cli.RunOkAsync("start", id);
        var again = (await c.InspectAsync(id)).GetProperty("State");
        Assert.True(again.GetProperty("Running").GetBoolean(), again.ToString());
        await c.Cli.RunOkAsync("rm", "-f", id);
        AssertNothingLeft(c, id);
    }

    [Fact]
    public async Task After_a_reboot_rm_containers_are_removed_and_the_others_kept()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var disposable = (await c.Cli.RunOkAsync("create", "--rm", ContainerCli.Busybox, "true")).Stdout.Trim();
        var kept = (await c.Cli.RunOkAsync("create", ContainerCli.Busybox, "true")).Stdout.Trim();
        // What the next command sees after a reboot: another boot id than the one of the last repair.
        await File.WriteAllTextAsync(Path.Combine(c.Cli.Root, "procs", "boot"), "an-earlier-boot");

        var ids = (await c.Cli.RunOkAsync("ps", "-aq", "--no-trunc")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([kept], ids);
        AssertNothingLeft(c, disposable);
        await c.Cli.RunOkAsync("rm", kept);
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            // A zombie still has /proc/PID; only a live process has a non-Z state.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void AssertNothingLeft(ContainerCli c, string id)
    {
        Assert.False(Directory.Exists(Path.Combine(c.ContainersDir, id)));
        Assert.DoesNotContain(id, File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
        foreach (var controller in new[] { "memory", "pids", "cpu", "devices", "freezer" })
            Assert.False(Directory.Exists($"/sys/fs/cgroup/{controller}/hivelet/{id}"), $"{controller} group of {id} left");
    }
}
