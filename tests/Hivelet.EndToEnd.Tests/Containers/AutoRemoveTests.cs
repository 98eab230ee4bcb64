using System.Diagnostics;
using System.Globalization;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>
/// `run --rm` leaves nothing: no record, bundle, mount, cgroup or monitor, whether the attached CLI
/// removes the container itself (the normal path) or is killed right after the container exited, when
/// the monitor is waiting for its REMOVED frame and falls back to `hivelet rm -f`.
/// </summary>
public sealed class AutoRemoveTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Attached_run_rm_has_removed_everything_when_the_CLI_returns()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var run = await c.Cli.RunAsync("run", "--rm", ContainerCli.Image, "hostname", "exit", "3");
        Assert.True(run.ExitCode == 3, run.ToString());
        // The default hostname is the id's first 12 characters.
        var prefix = run.Stdout.Trim().Replace("hostname: ", "", StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{12}$", prefix);

        // No waiting: the CLI removed the container before it returned.
        AssertNothingLeft(c, prefix);
    }

    [Fact]
    public async Task Run_rm_whose_CLI_is_killed_after_the_exit_is_removed_by_the_monitor()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        using var run = BackgroundRun.Start(c.Cli, "run", "--rm", ContainerCli.Image, "pause");
        string? bundle = null;
        await run.WaitUntilAsync(() => (bundle = Directory.GetDirectories(c.ContainersDir).SingleOrDefault()) is not null &&
                                       Status(bundle).GetValueOrDefault("state") == "running", "a running container", Wait);
        var id = Path.GetFileName(bundle!);
        var status = Status(bundle!);
        int monitorPid = int.Parse(status["monitor_pid"], CultureInfo.InvariantCulture);
        int containerPid = int.Parse(status["pid"], CultureInfo.InvariantCulture);

        // The CLI cannot act while stopped: the container exits, the monitor records it, sends EXIT and
        // waits for REMOVED, which never comes.
        Signal("STOP", run.Pid);
        try
        {
            Signal("TERM", containerPid);
            Assert.True(Eventually(() => Status(bundle!).GetValueOrDefault("state") == "exited"), "the container did not exit");
            Assert.True(Directory.Exists(bundle), "the monitor removed the container while the CLI was still there");
            Assert.True(File.Exists($"/proc/{monitorPid}/stat"), "the monitor did not wait for the CLI");

            Process.GetProcessById(run.Pid).Kill(); // SIGKILL to the CLI alone; the monitor lives on
        }
        finally
        {
            Signal("CONT", run.Pid);
        }
        Assert.True(Eventually(() => !Directory.Exists(bundle) && !File.Exists($"/proc/{monitorPid}/stat")),
            $"the monitor's rm -f fallback did not remove the container\n{Describe(bundle!)}");
        AssertNothingLeft(c, id[..12]);
        var ps = await c.Cli.RunOkAsync("ps", "-aq");
        Assert.Equal("", ps.Stdout.Trim());
    }

    private static void AssertNothingLeft(ContainerCli c, string idPrefix)
    {
        Assert.Empty(Directory.GetDirectories(c.ContainersDir));
        Assert.Empty(Directory.GetDirectories(Path.Combine(c.Cli.Root, "snapshots", "containers")));
        Assert.DoesNotContain(idPrefix, File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
        var groups = Directory.GetDirectories("/sys/fs/cgroup")
            .Append("/sys/fs/cgroup")
            .Select(d => Path.Combine(d, "hivelet"))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetDirectories)
            .Where(g => Path.GetFileName(g).StartsWith(idPrefix, StringComparison.Ordinal))
            .ToList();
        Assert.Empty(groups);
        // No hivelet process (monitor or rm -f) of this root is left.
        var left = Directory.GetDirectories("/proc")
            .Where(p => int.TryParse(Path.GetFileName(p), out _))
            .Where(p => ReadOrEmpty(Path.Combine(p, "cmdline")).Replace('\0', ' ').Contains(c.Cli.Root, StringComparison.Ordinal))
            .ToList();
        Assert.Empty(left);
    }

    private static Dictionary<string, string> Status(string bundle)
    {
        var result = new Dictionary<string, string>();
        foreach (var line in ReadOrEmpty(Path.Combine(bundle, "status")).Split('\n'))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                result[line[..eq]] = line[(eq + 1)..];
        }
        return result;
    }

    private static string Describe(string bundle) =>
        $"--- monitor.log ---\n{ReadOrEmpty(Path.Combine(bundle, "monitor.log"))}";

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static bool Eventually(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait)
                return false;
            Thread.Sleep(20);
        }
        return true;
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
