using System.Text.RegularExpressions;
using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>
/// The second `run` of a command line is replayed by native/fastrun.c from the run template the first
/// one left (CONTRACT.md "Run templates"). HIVELET_FASTRUN=require makes a run that cannot be replayed
/// fail with the reason instead of falling back, so these tests know which path ran.
/// </summary>
[Collection(LifecycleCollection.Name)]
public sealed partial class FastRunTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string Script =
        "grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; echo pid=$$; echo host=$(hostname); " +
        "grep ':pids:' /proc/self/cgroup; echo env=$FOO; echo oops >&2; exit 3";

    [Fact]
    public async Task A_repeated_run_is_replayed_as_the_same_kind_of_container_and_leaves_nothing()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["run", "--rm", "-e", "FOO=bar", ContainerCli.Busybox, "sh", "-c", Script];

        var first = await c.Cli.RunAsync(run);
        Assert.Equal(3, first.ExitCode);
        Assert.Single(Directory.GetFiles(Path.Combine(c.Cli.Root, "run-templates")));

        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        var second = await c.Cli.RunAsync(run);
        Assert.True(second.ExitCode == 3, second.ToString());
        Assert.Equal("oops\n", second.Stderr);

        // Everything but the identity is what the managed path made: capabilities, seccomp, pid 1, env.
        var a = Lines(first.Stdout);
        var b = Lines(second.Stdout);
        foreach (var key in new[] { "CapEff", "CapBnd", "Seccomp", "NoNewPrivs", "pid", "env" })
            Assert.Equal(a[key], b[key]);
        Assert.Equal("00000000a80425fb", b["CapEff"]);
        Assert.Equal("bar", b["env"]);
        var id = CgroupId().Match(second.Stdout).Groups[1].Value;
        Assert.Equal(64, id.Length);
        Assert.Equal(id[..12], b["host"]);
        Assert.NotEqual(a["host"], b["host"]);

        AssertNothingLeft(c, id);
        // The trees went to ROOT/trash in one rename each; the monitor deletes them after the run returned.
        await TrashEmptiedAsync(c);
    }

    [Fact]
    public async Task A_replayed_container_is_listed_inspected_exec_d_and_stopped_like_any_other()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["run", "--rm", ContainerCli.Busybox, "sh", "-c", "echo ready; while :; do sleep 1 & wait $!; done"];
        using (var warm = BackgroundRun.Start(c.Cli, run))
        {
            await warm.WaitUntilAsync(() => warm.Stdout.Contains("ready\n", StringComparison.Ordinal), "ready", Patience);
            var warmId = (await c.Cli.RunOkAsync("ps", "-q", "--no-trunc")).Stdout.Trim();
            await c.Cli.RunOkAsync("stop", "-t", "1", warmId);
            await ContainerCli.UntilAsync<string>(() => Task.FromResult(warm.HasExited ? "" : null), "the first run to end", Patience);
        }

        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        using var replayed = BackgroundRun.Start(c.Cli, run);
        await replayed.WaitUntilAsync(() => replayed.Stdout.Contains("ready\n", StringComparison.Ordinal), "ready", Patience);
        c.Cli.Environment.Remove("HIVELET_FASTRUN");

        var id = (await c.Cli.RunOkAsync("ps", "-q", "--no-trunc")).Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", id);
        var inspect = await c.InspectAsync(id);
        Assert.True(inspect.GetProperty("State").GetProperty("Running").GetBoolean(), inspect.ToString());
        Assert.Equal(id[..12], inspect.GetProperty("Config").GetProperty("Hostname").GetString());
        Assert.Matches("^/[a-z]+_[a-z]+$", inspect.GetProperty("Name").GetString()!);
        Assert.True(inspect.GetProperty("HostConfig").GetProperty("AutoRemove").GetBoolean());
        Assert.Equal(id[..12] + "\n", (await c.Cli.RunOkAsync("exec", id, "hostname")).Stdout);

        // sh as pid 1 ignores SIGTERM: the grace ends in SIGKILL, the attached run exits 137 and --rm removes it.
        await c.Cli.RunOkAsync("stop", "-t", "1", id);
        await ContainerCli.UntilAsync<string>(() => Task.FromResult(replayed.HasExited ? "" : null), "the replayed run to end", Patience);
        Assert.Equal(137, replayed.ExitCode);
        AssertNothingLeft(c, id);
    }

    [Fact]
    public async Task A_changed_image_tag_sends_the_run_back_to_the_managed_path_which_writes_a_new_template()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        const string tag = "lab/moving:1";
        await c.Cli.RunOkAsync("tag", ContainerCli.Busybox, tag);
        string[] run = ["run", "--rm", tag, "sh", "-c", "cat /etc/marker 2>/dev/null || echo none"];
        Assert.Equal("none\n", (await c.Cli.RunOkAsync(run)).Stdout);

        // The tag now names another image (one more layer): the template must not start the old one.
        var other = c.LoadBusybox("lab/other:1", new ImageDefinition().Layer(new LayerDefinition().Dir("etc/").File("etc/marker", "moved\n")));
        await c.Cli.RunOkAsync("tag", other, tag);
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        var refused = await c.Cli.RunAsync(run);
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains("changed since the template was made", refused.Stderr, StringComparison.Ordinal);

        c.Cli.Environment.Remove("HIVELET_FASTRUN");
        Assert.Equal("moved\n", (await c.Cli.RunOkAsync(run)).Stdout);
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        Assert.Equal("moved\n", (await c.Cli.RunOkAsync(run)).Stdout);
    }

    [Fact]
    public async Task A_killed_replayed_run_leaves_its_container_to_the_monitor_which_removes_it()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["run", "--rm", ContainerCli.Busybox, "sh", "-c", "echo ready; sleep 2"];
        await c.Cli.RunOkAsync(run);
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        string id;
        using (var replayed = BackgroundRun.Start(c.Cli, run))
        {
            await replayed.WaitUntilAsync(() => replayed.Stdout.Contains("ready\n", StringComparison.Ordinal), "ready", Patience);
            c.Cli.Environment.Remove("HIVELET_FASTRUN");
            id = (await c.Cli.RunOkAsync("ps", "-q", "--no-trunc")).Stdout.Trim();
            replayed.KillProcessOnly();
        }
        // The container runs on (as with Docker); at its exit the monitor's `rm -f` removes it.
        await ContainerCli.UntilAsync<string>(async () => (await c.Cli.RunOkAsync("ps", "-aq")).Stdout.Trim().Length == 0 ? "" : null,
            "the container to be removed", Patience);
        AssertNothingLeft(c, id);
    }

    /// <summary>
    /// The monitor is forked halfway through the steps and sets itself up while the CLI makes the rest; a
    /// step that fails then must stop it before it starts anything and leave nothing behind.
    /// </summary>
    [Fact]
    public async Task A_step_failing_after_the_monitor_was_forked_stops_it_and_undoes_everything()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["run", "--rm", ContainerCli.Busybox, "true"];
        await c.Cli.RunOkAsync(run);
        // The container layer's directory is made after the fork: an immutable parent makes it fail.
        var layers = Path.Combine(c.Cli.Root, "snapshots", "containers");
        var chattr = await ProcessRunner.RunAsync("chattr", ["+i", layers], Patience);
        if (chattr.ExitCode != 0)
        {
            Console.WriteLine($"skipped: chattr +i {layers}: {chattr.Stderr.Trim()}");
            return;
        }
        ProcessResult refused;
        try
        {
            c.Cli.Environment["HIVELET_FASTRUN"] = "require";
            refused = await c.Cli.RunAsync(run);
        }
        finally
        {
            await ProcessRunner.RunAsync("chattr", ["-i", layers], Patience);
        }
        Assert.True(refused.ExitCode == 125, refused.ToString());
        Assert.Contains("fast run unavailable: mkdir", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("Operation not permitted", refused.Stderr, StringComparison.Ordinal);

        Assert.Empty(Directory.GetDirectories(c.ContainersDir));
        Assert.Empty(Directory.GetFileSystemEntries(layers));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(c.Cli.Root, "trash")));
        Assert.Equal(["boot"], Directory.GetFiles(Path.Combine(c.Cli.Root, "procs")).Select(Path.GetFileName));
        // The forked monitor carries the CLI's command line: nothing with this root may be left running.
        foreach (var proc in Directory.GetDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(proc, "cmdline"));
            }
            catch (IOException)
            {
                continue; // gone meanwhile
            }
            Assert.DoesNotContain(c.Cli.Root, cmdline, StringComparison.Ordinal);
        }
        // The template whose steps failed was dropped; the managed run works and writes a new one.
        Assert.Empty(Directory.GetFiles(Path.Combine(c.Cli.Root, "run-templates")));
        c.Cli.Environment.Remove("HIVELET_FASTRUN");
        await c.Cli.RunOkAsync(run);
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        await c.Cli.RunOkAsync(run);
    }

    /// <summary>
    /// The CLI names the trash entries and the monitor joins them to the root of its plan, which the
    /// managed side spelled its own way (a trailing slash, a `.`): the trash is emptied whatever the spelling.
    /// </summary>
    [Theory]
    [InlineData("/")]
    [InlineData("/./")]
    public async Task The_trash_is_emptied_however_the_root_is_spelled(string suffix)
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["--root", c.Cli.Root + suffix, "run", "--rm", ContainerCli.Busybox, "true"];
        (await c.Cli.RunRawAsync(run)).EnsureSuccess();
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        (await c.Cli.RunRawAsync(run)).EnsureSuccess();
        await TrashEmptiedAsync(c);
    }

    /// <summary>
    /// A health check makes the monitor create the container's run dir, which is also a step of the CLI's;
    /// with the monitor set up in parallel, it must not race the CLI for it.
    /// </summary>
    [Fact]
    public async Task A_run_with_a_health_check_is_replayed()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["run", "--rm", "--health-cmd", "true", "--health-interval", "100ms", ContainerCli.Busybox,
            "sh", "-c", "sleep 0.3; echo done"];
        await c.Cli.RunOkAsync(run);
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        for (int i = 0; i < 3; i++)
            Assert.Equal("done\n", (await c.Cli.RunOkAsync(run)).Stdout);
    }

    [Fact]
    public async Task A_name_in_use_is_left_to_the_managed_path_and_its_conflict_error()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        string[] run = ["run", "--rm", "--name", "solo", ContainerCli.Busybox, "true"];
        await c.Cli.RunOkAsync(run);
        await c.Cli.RunOkAsync("create", "--name", "solo", ContainerCli.Busybox, "true");

        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        var refused = await c.Cli.RunAsync(run);
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains("the name solo is in use", refused.Stderr, StringComparison.Ordinal);
        c.Cli.Environment.Remove("HIVELET_FASTRUN");
        var conflict = await c.Cli.RunAsync(run);
        Assert.Equal(125, conflict.ExitCode);
        Assert.Contains("Conflict. The container name \"/solo\" is already in use", conflict.Stderr, StringComparison.Ordinal);
        await c.Cli.RunOkAsync("rm", "solo");
        c.Cli.Environment["HIVELET_FASTRUN"] = "require";
        await c.Cli.RunOkAsync(run);
    }

    private static Dictionary<string, string> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split([':', '='], 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0])
            .ToDictionary(g => g.Key, g => g.First()[1].Trim());

    [GeneratedRegex(":pids:/hivelet/([0-9a-f]{64})")]
    private static partial Regex CgroupId();

    /// <summary>Waits until ROOT/trash is empty and no repair marker but the boot record is left in ROOT/procs.</summary>
    private static async Task TrashEmptiedAsync(ContainerCli c)
    {
        await ContainerCli.UntilAsync<string>(() => Task.FromResult(
                Directory.EnumerateFileSystemEntries(Path.Combine(c.Cli.Root, "trash")).Any() ? null : ""),
            "the trash to be emptied", Patience);
        await ContainerCli.UntilAsync<string>(() => Task.FromResult(
                Directory.GetFiles(Path.Combine(c.Cli.Root, "procs")).Select(Path.GetFileName).SequenceEqual(["boot"]) ? "" : null),
            "only the boot record in procs", Patience);
    }

    private static void AssertNothingLeft(ContainerCli c, string id)
    {
        Assert.False(Directory.Exists(Path.Combine(c.ContainersDir, id)), "bundle left");
        Assert.False(Directory.Exists(Path.Combine(c.Cli.Root, "snapshots", "containers", id)), "snapshot left");
        Assert.DoesNotContain(id, File.ReadAllText("/proc/self/mountinfo"), StringComparison.Ordinal);
        foreach (var controller in new[] { "memory", "pids", "cpu", "devices", "freezer", "blkio", "cpuset", "cpuacct" })
            Assert.False(Directory.Exists($"/sys/fs/cgroup/{controller}/hivelet/{id}"), $"{controller} group of {id} left");
        Assert.False(Directory.Exists($"/sys/fs/cgroup/hivelet/{id}"), $"v2 group of {id} left");
    }
}
