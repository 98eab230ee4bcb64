using Hivelet.EndToEnd.Tests.Containers;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>kill -s, stop with its grace and --stop-signal, and --init, all through the CLI.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class SignalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // Traps print one line per signal; the wait builtin returns as soon as a trapped signal arrives.
    private const string TrapScript = """
        trap 'echo got-usr1' USR1
        trap 'echo got-usr2' USR2
        trap 'echo got-hup; exit 9' HUP
        echo ready
        while :; do sleep 1 & wait $!; done
        """;

    [Fact]
    public async Task Kill_s_by_prefixed_name_plain_name_and_number_reaches_the_container()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Busybox, "sh", "-c", TrapScript)).Stdout.Trim();
        await LogsContainAsync(c, id, "ready", 1);

        Assert.Equal(id, (await c.Cli.RunOkAsync("kill", "-s", "SIGUSR1", id)).Stdout.Trim());
        await LogsContainAsync(c, id, "got-usr1", 1);
        await c.Cli.RunOkAsync("kill", "-s", "10", id);
        await LogsContainAsync(c, id, "got-usr1", 2);
        await c.Cli.RunOkAsync("kill", "--signal", "USR2", id);
        await LogsContainAsync(c, id, "got-usr2", 1);
        var bad = await c.Cli.RunAsync("kill", "-s", "SIGNOPE", id);
        Assert.True(bad.ExitCode != 0, bad.ToString());
        Assert.Contains("SIGNOPE", bad.Stderr, StringComparison.Ordinal);

        await c.Cli.RunOkAsync("kill", "-s", "HUP", id);
        Assert.Equal("9", (await c.Cli.RunOkAsync("wait", id)).Stdout.Trim());

        // Plain kill is SIGKILL: 128 + 9.
        var sleeper = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Busybox, "sleep", "60")).Stdout.Trim();
        await c.Cli.RunOkAsync("kill", sleeper);
        Assert.Equal("137", (await c.Cli.RunOkAsync("wait", sleeper)).Stdout.Trim());
        var state = (await c.InspectAsync(sleeper)).GetProperty("State");
        Assert.Equal("exited", state.GetProperty("Status").GetString());
        Assert.Equal(137, state.GetProperty("ExitCode").GetInt32());
    }

    [Fact]
    public async Task Stop_sends_the_stop_signal_then_sigkill_after_stop_timeout()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();

        // --stop-signal: stop delivers USR1, which the script turns into exit 7 (no SIGKILL needed).
        var polite = (await c.Cli.RunOkAsync("run", "-d", "--stop-signal", "SIGUSR1", ContainerCli.Busybox, "sh", "-c",
            "trap 'echo stopping; exit 7' USR1; echo ready; while :; do sleep 1 & wait $!; done")).Stdout.Trim();
        await LogsContainAsync(c, polite, "ready", 1);
        await c.Cli.RunOkAsync("stop", polite);
        Assert.Equal("7", (await c.Cli.RunOkAsync("wait", polite)).Stdout.Trim());
        await LogsContainAsync(c, polite, "stopping", 1);

        // A pid 1 that ignores SIGTERM: --stop-timeout 1 then SIGKILL (137); the TERM was delivered first.
        var stubborn = (await c.Cli.RunOkAsync("run", "-d", "--stop-timeout", "1", ContainerCli.Busybox, "sh", "-c",
            "trap 'echo term-ignored' TERM; echo ready; while :; do sleep 1 & wait $!; done")).Stdout.Trim();
        await LogsContainAsync(c, stubborn, "ready", 1);
        await c.Cli.RunOkAsync("stop", stubborn);
        Assert.Equal("137", (await c.Cli.RunOkAsync("wait", stubborn)).Stdout.Trim());
        await LogsContainAsync(c, stubborn, "term-ignored", 1);
        var state = (await c.InspectAsync(stubborn)).GetProperty("State");
        Assert.Equal(137, state.GetProperty("ExitCode").GetInt32());
        Assert.False(state.GetProperty("Running").GetBoolean());

        // -t overrides it: -t 0 kills at once.
        var quick = (await c.Cli.RunOkAsync("run", "-d", "--stop-timeout", "60", ContainerCli.Busybox, "sh", "-c",
            "trap 'echo term-ignored' TERM; while :; do sleep 1 & wait $!; done")).Stdout.Trim();
        await c.Cli.RunOkAsync("stop", "-t", "0", quick);
        Assert.Equal("137", (await c.Cli.RunOkAsync("wait", quick)).Stdout.Trim());
    }

    [Fact]
    public async Task Init_is_pid1_reaps_orphaned_zombies_and_forwards_signals()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();

        // The inner sh exits at once, orphaning a short sleep that init inherits; once it has ended,
        // no process in the container may be left as a zombie. The wait is for the orphan's pid to go
        // (a zombie keeps it until reaped), not for `pidof sleep` to be empty: the orphan may not have
        // exec'd sleep yet when pidof first looks, which ended the wait early on a loaded machine.
        const string script = """
            echo "sh-pid=$$"
            echo "pid1=$(cat /proc/1/comm)"
            sh -c 'sleep 0.3 & echo $! > /orphan; exit 0'
            orphan=$(cat /orphan)
            i=0
            while [ $i -lt 50 ] && [ -e /proc/$orphan ]; do sleep 0.1; i=$((i+1)); done
            echo "zombies=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ') Z ')"
            echo "pid1-children=$(cat /proc/1/task/1/children)"
            echo "pid1-cmdline=$(tr '\0' ' ' < /proc/1/cmdline)"
            grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/1/status | sed 's/^/pid1-/; s/:[[:space:]]*/=/'
            """;
        var run = await c.Cli.RunAsync("run", "--rm", "--init", ContainerCli.Busybox, "sh", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        var f = Facts.Parse(run.Stdout);
        Assert.NotEqual("1", f.Get("sh-pid", run.ToString()));
        Assert.NotEqual("sh", f.Get("pid1", run.ToString()));
        Assert.Equal("0", f.Get("zombies", run.ToString()));
        Assert.Equal(f["sh-pid"], f.Get("pid1-children", run.ToString()).Trim());
        // Init is the container's process like any other: Docker's default capabilities and seccomp filter,
        // and a name of its own, not the monitor's command line with its host paths.
        Assert.Equal("hivelet-init", f.Get("pid1", run.ToString()));
        Assert.StartsWith("hivelet-init -- sh -c ", f.Get("pid1-cmdline", run.ToString()), StringComparison.Ordinal);
        Assert.DoesNotContain(c.Cli.Root, run.Stdout, StringComparison.Ordinal);
        Assert.Equal("00000000a80425fb", f.Get("pid1-CapEff", run.ToString()).Trim());
        Assert.Equal("00000000a80425fb", f.Get("pid1-CapBnd", run.ToString()).Trim());
        Assert.Equal("2", f.Get("pid1-Seccomp", run.ToString()).Trim());

        // With a user other than root, init keeps no capability, as its exec would have left it.
        var user = await c.Cli.RunAsync("run", "--rm", "--init", "-u", "1000", ContainerCli.Busybox, "sh", "-c",
            "grep -E '^(Uid|CapEff):' /proc/1/status | sed 's/^/pid1-/; s/:[[:space:]]*/=/'");
        Assert.True(user.ExitCode == 0, user.ToString());
        var u = Facts.Parse(user.Stdout);
        Assert.Equal("0000000000000000", u.Get("pid1-CapEff", user.ToString()).Trim());
        Assert.StartsWith("1000", u.Get("pid1-Uid", user.ToString()).Trim(), StringComparison.Ordinal);

        // Without --init the same orphan is inherited by sh as pid 1, which never waits for it.
        var bare = await c.Cli.RunAsync("run", "--rm", ContainerCli.Busybox, "sh", "-c", script);
        Assert.True(bare.ExitCode == 0, bare.ToString());
        Assert.Equal("1", Facts.Parse(bare.Stdout).Get("sh-pid", bare.ToString()));

        // Forwarding: a sleep with the default action for USR1 dies of it, so init exits 128+10.
        var forwarded = (await c.Cli.RunOkAsync("run", "-d", "--init", ContainerCli.Busybox, "sh", "-c",
            "echo ready; exec sleep 60")).Stdout.Trim();
        await LogsContainAsync(c, forwarded, "ready", 1);
        await c.Cli.RunOkAsync("kill", "-s", "USR1", forwarded);
        Assert.Equal("138", (await c.Cli.RunOkAsync("wait", forwarded)).Stdout.Trim());
    }

    /// <summary>Waits until `logs` shows <paramref name="line"/> at least <paramref name="count"/> times.</summary>
    internal static async Task LogsContainAsync(ContainerCli c, string id, string line, int count)
    {
        string last = "";
        try
        {
            await ContainerCli.UntilAsync<string>(async () =>
            {
                last = (await c.Cli.RunOkAsync("logs", id)).Stdout;
                var n = last.Split('\n').Count(l => l.TrimEnd('\r') == line);
                return n >= count ? last : null;
            }, $"`{line}` x{count} in the logs of {id[..12]}", Patience);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; logs so far:\n{last}", e);
        }
    }
}
