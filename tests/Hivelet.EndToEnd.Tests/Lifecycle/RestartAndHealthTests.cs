using System.Text.Json;
using Hivelet.EndToEnd.Tests.Containers;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>Restart policies, `hivelet restart` and health checks, driven and observed through the CLI.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class RestartAndHealthTests
{
    private static string Status(JsonElement inspect) => inspect.GetProperty("State").GetProperty("Status").GetString()!;

    private static int Restarts(JsonElement inspect) => inspect.GetProperty("RestartCount").GetInt32();

    [Fact]
    public async Task On_failure_n_gives_up_after_n_restarts_and_no_never_restarts()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var failing = (await c.Cli.RunOkAsync("run", "-d", "--restart", "on-failure:2", ContainerCli.Busybox, "sh", "-c",
            "echo run; exit 3")).Stdout.Trim();
        var done = await c.InspectUntilAsync(failing, i => Status(i) == "exited" && Restarts(i) == 2,
            "exited after 2 restarts");
        Assert.Equal(3, done.GetProperty("State").GetProperty("ExitCode").GetInt32());
        Assert.Equal("on-failure", done.GetProperty("HostConfig").GetProperty("RestartPolicy").GetProperty("Name").GetString());
        // Three runs in all, one log line each; and no fourth run later.
        await SignalTests.LogsContainAsync(c, failing, "run", 3);
        Assert.Equal("3", (await c.Cli.RunOkAsync("wait", failing)).Stdout.Trim());
        await Task.Delay(1_000);
        var later = await c.InspectAsync(failing);
        Assert.Equal(2, Restarts(later));
        Assert.Equal("exited", Status(later));

        var success = (await c.Cli.RunOkAsync("run", "-d", "--restart", "on-failure:2", ContainerCli.Busybox, "true")).Stdout.Trim();
        Assert.Equal("0", (await c.Cli.RunOkAsync("wait", success)).Stdout.Trim());

        var no = (await c.Cli.RunOkAsync("run", "-d", "--restart", "no", ContainerCli.Busybox, "sh", "-c", "exit 4")).Stdout.Trim();
        Assert.Equal("4", (await c.Cli.RunOkAsync("wait", no)).Stdout.Trim());
        await Task.Delay(500);
        var noState = await c.InspectAsync(no);
        Assert.Equal(0, Restarts(noState));
        Assert.Equal(0, Restarts(await c.InspectAsync(success)));
        Assert.Equal("exited", Status(noState));
    }

    [Theory]
    [InlineData("always")]
    [InlineData("unless-stopped")]
    public async Task Always_and_unless_stopped_restart_a_clean_exit_until_stop(string policy)
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", "--restart", policy, ContainerCli.Busybox, "sh", "-c",
            "echo run; sleep 0.2")).Stdout.Trim();
        await c.InspectUntilAsync(id, i => Restarts(i) >= 2, "two restarts");
        await c.Cli.RunOkAsync("stop", "-t", "1", id);
        var stopped = await c.InspectAsync(id);
        Assert.Equal("exited", Status(stopped));
        var count = Restarts(stopped);
        // Docker's backoff after the runs above is well under 2 s: a restart after stop would show by then.
        await Task.Delay(2_000);
        var later = await c.InspectAsync(id);
        Assert.Equal("exited", Status(later));
        Assert.Equal(count, Restarts(later));
        Assert.Contains("Exited", (await c.Cli.RunOkAsync("ps", "-a")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_verb_stops_and_starts_again_with_a_new_process()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", "--name", "again", ContainerCli.Busybox, "sh", "-c",
            "echo started; while :; do sleep 1 & wait $!; done")).Stdout.Trim();
        var before = (await c.InspectAsync(id)).GetProperty("State");
        Assert.True(before.GetProperty("Running").GetBoolean());
        Assert.Equal("again", (await c.Cli.RunOkAsync("restart", "-t", "0", "again")).Stdout.Trim());
        var after = (await c.InspectAsync(id)).GetProperty("State");
        Assert.True(after.GetProperty("Running").GetBoolean(), after.ToString());
        Assert.NotEqual(before.GetProperty("Pid").GetInt32(), after.GetProperty("Pid").GetInt32());
        Assert.NotEqual(before.GetProperty("StartedAt").GetString(), after.GetProperty("StartedAt").GetString());
        await SignalTests.LogsContainAsync(c, id, "started", 2);

        // restart of a stopped container starts it.
        await c.Cli.RunOkAsync("stop", "-t", "0", id);
        await c.Cli.RunOkAsync("restart", id);
        Assert.True((await c.InspectAsync(id)).GetProperty("State").GetProperty("Running").GetBoolean());
    }

    [Fact]
    public async Task Healthcheck_goes_starting_healthy_unhealthy_with_streak_log_and_ps_status()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        var id = (await c.Cli.RunOkAsync("run", "-d", "--health-cmd", "cat /tmp/ok", "--health-interval", "1s",
            "--health-retries", "2", "--health-timeout", "2s", ContainerCli.Busybox, "sh", "-c",
            "echo fine > /tmp/ok; while :; do sleep 1 & wait $!; done")).Stdout.Trim();

        var first = (await c.InspectAsync(id)).GetProperty("State").GetProperty("Health");
        Assert.Contains(first.GetProperty("Status").GetString(), new[] { "starting", "healthy" });

        var healthy = await c.InspectUntilAsync(id, i => Health(i)?.GetProperty("Status").GetString() == "healthy", "healthy");
        var h = Health(healthy)!.Value;
        Assert.Equal(0, h.GetProperty("FailingStreak").GetInt32());
        var entry = h.GetProperty("Log").EnumerateArray().Last();
        Assert.Equal(0, entry.GetProperty("ExitCode").GetInt32());
        Assert.Equal("fine\n", entry.GetProperty("Output").GetString());
        Assert.False(string.IsNullOrEmpty(entry.GetProperty("Start").GetString()));
        Assert.Contains("(healthy)", (await c.Cli.RunOkAsync("ps")).Stdout, StringComparison.Ordinal);

        await c.Cli.RunOkAsync("exec", id, "rm", "/tmp/ok");
        var unhealthy = await c.InspectUntilAsync(id, i => Health(i)?.GetProperty("Status").GetString() == "unhealthy", "unhealthy");
        h = Health(unhealthy)!.Value;
        Assert.True(h.GetProperty("FailingStreak").GetInt32() >= 2, h.ToString());
        var failed = h.GetProperty("Log").EnumerateArray().Last();
        Assert.NotEqual(0, failed.GetProperty("ExitCode").GetInt32());
        Assert.Contains("/tmp/ok", failed.GetProperty("Output").GetString(), StringComparison.Ordinal);
        Assert.Contains("(unhealthy)", (await c.Cli.RunOkAsync("ps")).Stdout, StringComparison.Ordinal);

        // Recovery resets the streak.
        await c.Cli.RunOkAsync("exec", id, "touch", "/tmp/ok");
        var again = await c.InspectUntilAsync(id, i => Health(i)?.GetProperty("Status").GetString() == "healthy", "healthy again");
        Assert.Equal(0, Health(again)!.Value.GetProperty("FailingStreak").GetInt32());
    }

    private static JsonElement? Health(JsonElement inspect) =>
        inspect.GetProperty("State").TryGetProperty("Health", out var h) && h.ValueKind == JsonValueKind.Object ? h : null;
}
