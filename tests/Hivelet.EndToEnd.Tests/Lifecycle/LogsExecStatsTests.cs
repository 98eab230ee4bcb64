using System.Globalization;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>logs, exec, stats, top and inspect of running and exited containers, through the CLI.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class LogsExecStatsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Logs_after_the_cli_exited_tail_timestamps_and_follow_until_exit()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        // Prints three lines, then one more per trigger file the test creates with exec, then exits.
        const string script = """
            echo one; echo two >&2; echo three
            while [ ! -e /tmp/go ]; do sleep 0.05; done
            echo four
            while [ ! -e /tmp/end ]; do sleep 0.05; done
            echo five
            """;
        var id = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Busybox, "sh", "-c", script)).Stdout.Trim();
        await SignalTests.LogsContainAsync(c, id, "three", 1);

        var all = await c.Cli.RunOkAsync("logs", id);
        Assert.Equal("one\nthree\n", all.Stdout);
        Assert.Equal("two\n", all.Stderr);
        var stamped = await c.Cli.RunOkAsync("logs", "-t", id);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one\n", stamped.Stdout);

        using var follow = BackgroundRun.Start(c.Cli, "logs", "-f", "--tail", "0", id);
        await c.Cli.RunOkAsync("exec", id, "touch", "/tmp/go");
        await follow.WaitUntilAsync(() => follow.Stdout.Contains("four\n", StringComparison.Ordinal), "followed `four`", Patience);
        Assert.DoesNotContain("one", follow.Stdout, StringComparison.Ordinal);
        // stdout and stderr are separate pipes, so only a line written well after the others is surely last.
        var tail = await c.Cli.RunOkAsync("logs", "--tail", "1", id);
        Assert.Equal("four\n", tail.Stdout + tail.Stderr);
        var tail2 = await c.Cli.RunOkAsync("logs", "--tail", "2", id);
        Assert.EndsWith("four\n", tail2.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, (tail2.Stdout + tail2.Stderr).Count(ch => ch == '\n'));
        await c.Cli.RunOkAsync("exec", id, "touch", "/tmp/end");
        Assert.Equal("0", (await c.Cli.RunOkAsync("wait", id)).Stdout.Trim());
        await ContainerCli.UntilAsync<string>(() => Task.FromResult(follow.HasExited ? "" : null), "logs -f to end with the container", Patience);
        Assert.Equal("four\nfive\n", follow.Stdout);
    }

    [Fact]
    public async Task Exec_env_user_workdir_exit_code_and_stdin_then_stats_top_and_inspect()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        using var shared = new TempDirectory("hivelet-e2e-mount");
        var id = (await c.Cli.RunOkAsync("run", "-d", "--name", "worker", "-m", "32m", "-e", "IMAGE_ENV=kept",
            "--label", "team=e2e", "-v", $"{shared.Path}:/shared:ro", ContainerCli.Busybox, "sleep", "300")).Stdout.Trim();

        var facts = await c.Cli.RunAsync("exec", "-e", "EXTRA=1", "-u", "1000", "-w", "/tmp", "worker", "sh", "-c",
            "echo \"uid=$(id -u)\"; echo \"cwd=$(pwd)\"; echo \"EXTRA=$EXTRA\"; echo \"IMAGE_ENV=$IMAGE_ENV\"; echo \"pid=$$\"");
        Assert.True(facts.ExitCode == 0, facts.ToString());
        var f = Facts.Parse(facts.Stdout);
        Assert.Equal("1000", f.Get("uid", facts.ToString()));
        Assert.Equal("/tmp", f.Get("cwd", facts.ToString()));
        Assert.Equal("1", f.Get("EXTRA", facts.ToString()));
        Assert.Equal("kept", f.Get("IMAGE_ENV", facts.ToString()));
        Assert.NotEqual("1", f.Get("pid", facts.ToString()));

        var code = await c.Cli.RunAsync("exec", "worker", "sh", "-c", "exit 5");
        Assert.Equal(5, code.ExitCode);
        var missing = await c.Cli.RunAsync("exec", "worker", "no-such-program");
        Assert.True(missing.ExitCode is 126 or 127, missing.ToString());
        var stdin = await c.Cli.RunAsync(["exec", "-i", "worker", "sh", "-c", "tr a-z A-Z; echo end"], "hello stdin\n");
        Assert.True(stdin.ExitCode == 0, stdin.ToString());
        Assert.Equal("HELLO STDIN\nend\n", stdin.Stdout);

        var json = await c.Cli.RunOkAsync("stats", "--no-stream", "--format", "json", "worker");
        using (var doc = JsonDocument.Parse(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]))
        {
            var s = doc.RootElement;
            Assert.Equal("worker", s.GetProperty("Name").GetString());
            Assert.Contains("32MiB", s.GetProperty("MemUsage").GetString(), StringComparison.Ordinal);
            Assert.Equal("1", s.GetProperty("PIDs").GetString());
        }
        var table = await c.Cli.RunOkAsync("stats", "--no-stream", "worker");
        Assert.Contains("MEM USAGE / LIMIT", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("32MiB", table.Stdout, StringComparison.Ordinal);

        var top = await c.Cli.RunOkAsync("top", "worker");
        Assert.Contains("PID", top.Stdout, StringComparison.Ordinal);
        Assert.Contains("sleep 300", top.Stdout, StringComparison.Ordinal);

        var i = await c.InspectAsync("worker");
        Assert.Equal(id, i.GetProperty("Id").GetString());
        Assert.Equal("/worker", i.GetProperty("Name").GetString());
        var created = DateTimeOffset.Parse(i.GetProperty("Created").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(created, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(1));
        var state = i.GetProperty("State");
        Assert.Equal("running", state.GetProperty("Status").GetString());
        Assert.True(state.GetProperty("Running").GetBoolean());
        Assert.True(state.GetProperty("Pid").GetInt32() > 1);
        Assert.False(state.GetProperty("OOMKilled").GetBoolean());
        Assert.Equal(0, state.GetProperty("ExitCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(state.GetProperty("StartedAt").GetString()));
        var config = i.GetProperty("Config");
        Assert.Equal(ContainerCli.Busybox, config.GetProperty("Image").GetString());
        Assert.Contains("IMAGE_ENV=kept", config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["sleep", "300"], config.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("e2e", config.GetProperty("Labels").GetProperty("team").GetString());
        Assert.Equal(32L * 1024 * 1024, i.GetProperty("HostConfig").GetProperty("Memory").GetInt64());
        var mount = Assert.Single(i.GetProperty("Mounts").EnumerateArray());
        Assert.Equal("bind", mount.GetProperty("Type").GetString());
        Assert.Equal(shared.Path, mount.GetProperty("Source").GetString());
        Assert.Equal("/shared", mount.GetProperty("Destination").GetString());
        Assert.False(mount.GetProperty("RW").GetBoolean());

        await c.Cli.RunOkAsync("stop", "-t", "0", "worker");
        var exited = (await c.InspectAsync("worker")).GetProperty("State");
        Assert.Equal("exited", exited.GetProperty("Status").GetString());
        Assert.Equal(137, exited.GetProperty("ExitCode").GetInt32());
        Assert.Equal(0, exited.GetProperty("Pid").GetInt32());
        Assert.False(string.IsNullOrEmpty(exited.GetProperty("FinishedAt").GetString()));
    }
}
