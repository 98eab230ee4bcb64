using System.Globalization;
using System.Text;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Xunit.Abstractions;

namespace Hivelet.EndToEnd.Tests.Monitor;

/// <summary>
/// `hivelet __monitor BUNDLE` (native/src/monitor*.c) driven through its contract: the plan, the
/// status file, the start socket on fd 3, the json-file log and health.json. Needs root (the
/// container gets namespaces and a bind-mounted busybox root) and the published binary.
/// </summary>
[Collection("monitor")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MonitorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private bool NotRoot()
    {
        if (Environment.IsPrivilegedProcess)
            return false;
        output.WriteLine("skipped: the monitor tests start containers and need root");
        return true;
    }

    private static int StartedPid(MonitorProcess monitor, MonitorBundle bundle)
    {
        var frame = monitor.ReadFrame(Wait);
        Assert.True(frame is { Type: Frame.Started }, $"expected STARTED, got {frame}\n{bundle.Describe()}");
        return int.Parse(frame!.Text, CultureInfo.InvariantCulture);
    }

    private static void AssertExited(MonitorProcess monitor, MonitorBundle bundle)
    {
        Assert.True(monitor.WaitExit(Wait), $"the monitor did not exit\n{bundle.Describe()}");
        Assert.Equal(0, monitor.WaitStatus);
        Assert.Equal("exited", bundle.Status()["state"]);
    }

    private static List<JsonElement> LogEntries(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>
    /// Attached with stdin and a tty, and Docker's /dev: the pty is made in the container's own devpts,
    /// /dev/ptmx leads there.
    /// </summary>
    private static void WithTty(MonitorBundle bundle) =>
        bundle.Plan.Set("attach", 1).Set("stdin", 1).Set("tty", 1)
            .Add("mount", "tmpfs", "tmpfs", "/dev", "1000002", "mode=755,size=65536k", "dir") // MS_NOSUID|MS_STRICTATIME
            .Add("mount", "devpts", "devpts", "/dev/pts", "a", "newinstance,ptmxmode=0666,mode=0620", "dir") // MS_NOSUID|MS_NOEXEC
            .Add("symlink", "pts/ptmx", "/dev/ptmx");

    [Fact]
    public void Detached_start_records_running_with_a_live_pid_then_the_exit_code()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 1; exit 7");
        using var monitor = MonitorProcess.Start(bundle);

        var pid = StartedPid(monitor, bundle);
        monitor.CloseSocket(); // a detached CLI reads STARTED and goes

        var status = bundle.Status();
        Assert.Equal("running", status["state"]);
        Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), status["pid"]);
        Assert.Equal(MonitorProcess.ProcStart(pid).ToString(CultureInfo.InvariantCulture), status["pid_start"]);
        Assert.NotEqual("0", status["pid_start"]);
        Assert.Equal(monitor.Pid.ToString(CultureInfo.InvariantCulture), status["monitor_pid"]);
        Assert.Equal(MonitorProcess.ProcStart(monitor.Pid).ToString(CultureInfo.InvariantCulture),
            status["monitor_start"]);
        Assert.True(DateTimeOffset.TryParse(status["started_at"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out _), status["started_at"]);

        AssertExited(monitor, bundle);
        status = bundle.Status();
        Assert.Equal("7", status["exit_code"]);
        Assert.Equal("0", status["pid"]);
        Assert.Equal("0", status["oom_killed"]);
        Assert.Equal("", status["error"]);
        Assert.True(DateTimeOffset.Parse(status["finished_at"], CultureInfo.InvariantCulture) >=
                    DateTimeOffset.Parse(status["started_at"], CultureInfo.InvariantCulture));
        // Written by rename: no temporary file is left beside it.
        Assert.False(File.Exists(bundle.StatusPath + ".tmp"));
        Assert.Equal(0UL, MonitorProcess.ProcStart(pid));
    }

    [Fact]
    public void Output_is_logged_in_docker_json_file_format_with_its_stream()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell(
            "echo out; echo err >&2; printf 'tab\\there \"q\" \\\\ <&> \\001 \\377 h\\303\\251\\n'; printf 'no newline'");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        AssertExited(monitor, bundle);

        var entries = LogEntries(bundle.LogPath);
        var stdout = entries.Where(e => e.GetProperty("stream").GetString() == "stdout")
            .Select(e => e.GetProperty("log").GetString()).ToList();
        var stderr = entries.Where(e => e.GetProperty("stream").GetString() == "stderr")
            .Select(e => e.GetProperty("log").GetString()).ToList();
        Assert.Equal(["out\n", "tab\there \"q\" \\ <&> \u0001 \ufffd h\u00e9\n", "no newline"], stdout);
        Assert.Equal(["err\n"], stderr);
        foreach (var e in entries)
        {
            Assert.Equal(["log", "stream", "time"], e.EnumerateObject().Select(p => p.Name));
            var time = e.GetProperty("time").GetString()!;
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", time);
        }
        // Escaped as Go (and so Docker) escapes: HTML-safe, control characters as \u00XX.
        var raw = File.ReadAllText(bundle.LogPath);
        Assert.Contains(@"\u003c\u0026\u003e \u0001 \ufffd", raw, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_lines_are_split_at_16_KiB()
    {
        if (NotRoot())
            return;
        // 40000 'y' and a newline: entries of 16384, 16384 and 7232 bytes + "\n".
        using var bundle = new MonitorBundle().Shell("yes y | head -n 40000 | tr -d '\\n'; echo");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        AssertExited(monitor, bundle);

        var logs = LogEntries(bundle.LogPath).Select(e => e.GetProperty("log").GetString()!).ToList();
        Assert.Equal([16384, 16384, 7233], logs.Select(l => l.Length));
        Assert.EndsWith("y\n", logs[2], StringComparison.Ordinal);
    }

    [Fact]
    public void The_log_rotates_at_max_size_keeping_max_files()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("seq 1 300");
        bundle.Plan.Set("log_max_size", 2000).Set("log_max_files", 3);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        AssertExited(monitor, bundle);

        var files = new[] { bundle.LogPath + ".2", bundle.LogPath + ".1", bundle.LogPath };
        foreach (var f in files)
        {
            Assert.True(File.Exists(f), $"{f} missing");
            Assert.InRange(new FileInfo(f).Length, 1, 2000);
        }
        Assert.False(File.Exists(bundle.LogPath + ".3"));
        // Oldest to newest the kept lines are consecutive and end with the last one.
        var numbers = files.SelectMany(LogEntries)
            .Select(e => int.Parse(e.GetProperty("log").GetString()!.TrimEnd('\n'), CultureInfo.InvariantCulture))
            .ToList();
        Assert.Equal(300, numbers[^1]);
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Count), numbers);
        Assert.True(numbers[0] > 1, "older entries should have been rotated away");
    }

    [Fact]
    public void Attached_output_comes_as_frames_and_stdin_frames_reach_the_container()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("read x; echo got:$x; echo oops >&2; cat; echo done");
        bundle.Plan.Set("attach", 1).Set("stdin", 1);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        monitor.Send(Frame.Stdin, "hello\n"u8);
        monitor.Send(Frame.Stdin, "more\n"u8);
        monitor.Send(Frame.StdinEof, []);
        var frames = monitor.ReadUntil(Frame.Exit, Wait);

        var stdout = string.Concat(frames.Where(f => f.Type == Frame.Stdout).Select(f => f.Text));
        var stderr = string.Concat(frames.Where(f => f.Type == Frame.Stderr).Select(f => f.Text));
        Assert.Equal("got:hello\nmore\ndone\n", stdout);
        Assert.Equal("oops\n", stderr);
        Assert.Equal("0 0", frames[^1].Text);
        Assert.Null(monitor.ReadFrame(Wait)); // then EOF
        AssertExited(monitor, bundle);
        // The same output is in the log.
        Assert.Equal(4, LogEntries(bundle.LogPath).Count);
    }

    [Fact]
    public void A_CLI_that_does_not_read_never_stalls_the_container()
    {
        if (NotRoot())
            return;
        // About 1.2 MB of output, far more than the socket buffers, while the test reads nothing.
        using var bundle = new MonitorBundle().Shell("yes hello | head -n 200000");
        bundle.Plan.Set("attach", 1);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        Assert.True(MonitorProcess.Eventually(() => bundle.Status()["state"] == "exited", Wait), bundle.Describe());
        Assert.Equal(200000, File.ReadLines(bundle.LogPath).Count());
        // Output frames were dropped, not the EXIT frame.
        var frames = monitor.ReadUntil(Frame.Exit, Wait);
        Assert.Equal(Frame.Exit, frames[^1].Type);
        Assert.Equal("0 0", frames[^1].Text);
        AssertExited(monitor, bundle);
    }

    [Fact]
    public void An_attached_CLI_that_goes_away_closes_the_container_stdin()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("cat; echo stdin closed");
        bundle.Plan.Set("attach", 1).Set("stdin", 1);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        monitor.Send(Frame.Stdin, "typed\n"u8);
        Assert.True(MonitorProcess.Eventually(
            () => File.Exists(bundle.LogPath) && File.ReadAllText(bundle.LogPath).Contains("typed", StringComparison.Ordinal),
            Wait), bundle.Describe());

        monitor.CloseSocket();
        AssertExited(monitor, bundle);
        Assert.Contains("stdin closed", File.ReadAllText(bundle.LogPath), StringComparison.Ordinal);
        Assert.Equal("0", bundle.Status()["exit_code"]);
    }

    [Fact]
    public void A_tty_gets_the_window_size_from_resize_frames()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("read x; stty size; tty; [ /dev/console -ef /dev/pts/0 ] && echo console");
        WithTty(bundle);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        monitor.Send(Frame.Resize, [0, 33, 0, 120]);
        monitor.Send(Frame.Stdin, "go\r"u8);
        var frames = monitor.ReadUntil(Frame.Exit, Wait);

        Assert.DoesNotContain(frames, f => f.Type == Frame.Stderr);
        var text = string.Concat(frames.Where(f => f.Type == Frame.Stdout).Select(f => f.Text));
        Assert.Contains("33 120\r\n", text, StringComparison.Ordinal);
        // The first pty of the container's devpts, also bound on /dev/console (as runc does).
        Assert.Contains("/dev/pts/0\r\nconsole\r\n", text, StringComparison.Ordinal);
        AssertExited(monitor, bundle);
    }

    [Fact]
    public void Stdin_eof_on_a_tty_ends_the_input_of_a_reader_as_ctrl_d_does()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("cat; echo after-eof");
        WithTty(bundle);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        monitor.Send(Frame.Stdin, "typed\r"u8);
        monitor.Send(Frame.StdinEof, []);
        var frames = monitor.ReadUntil(Frame.Exit, Wait);

        var text = string.Concat(frames.Where(f => f.Type == Frame.Stdout).Select(f => f.Text));
        Assert.Contains("typed\r\n", text, StringComparison.Ordinal);
        Assert.Contains("after-eof", text, StringComparison.Ordinal);
        Assert.Equal("0 0", frames[^1].Text);
        AssertExited(monitor, bundle);
    }

    [Fact]
    public void Restart_always_backs_off_doubling_until_the_stop_marker()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("echo start; exit 1");
        bundle.Plan.Set("restart", "always");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        Assert.True(MonitorProcess.Eventually(
            () => bundle.Status().TryGetValue("restart_count", out var c) && int.Parse(c, CultureInfo.InvariantCulture) >= 5,
            Wait), bundle.Describe());
        File.WriteAllText(Path.Combine(bundle.Bundle, "stop"), "");
        AssertExited(monitor, bundle);

        var status = bundle.Status();
        Assert.Equal("1", status["exit_code"]);
        var count = int.Parse(status["restart_count"], CultureInfo.InvariantCulture);
        var starts = LogEntries(bundle.LogPath)
            .Select(e => DateTimeOffset.Parse(e.GetProperty("time").GetString()!, CultureInfo.InvariantCulture))
            .ToList();
        // restart_count counts decided restarts, as Docker's does: the stop marker may have cut
        // the last backoff short.
        Assert.InRange(starts.Count, count, count + 1);
        var gaps = starts.Zip(starts.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        output.WriteLine($"gaps between starts (ms): {string.Join(", ", gaps.Select(g => g.ToString("F0", CultureInfo.InvariantCulture)))}");
        // 100, 200, 400, 800 ms plus the start itself.
        Assert.InRange(gaps[0], 90, 1000);
        Assert.InRange(gaps[3], 790, 2500);
        Assert.True(gaps[3] > gaps[2] && gaps[2] > gaps[1] && gaps[1] > gaps[0], string.Join(", ", gaps));
    }

    [Fact]
    public void On_failure_restarts_at_most_N_times_then_sends_exit()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("echo start; exit 3");
        bundle.Plan.Set("restart", "on-failure").Set("restart_max", 2).Set("attach", 1);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        var frames = monitor.ReadUntil(Frame.Exit, Wait);
        Assert.Equal("3 0", frames[^1].Text);
        Assert.Equal(3, frames.Count(f => f is { Type: Frame.Stdout, Text: "start\n" }));
        Assert.DoesNotContain(frames, f => f.Type == Frame.Started); // only the first start is announced
        AssertExited(monitor, bundle);
        Assert.Equal("2", bundle.Status()["restart_count"]);
        Assert.Equal("3", bundle.Status()["exit_code"]);
    }

    [Fact]
    public void On_failure_does_not_restart_a_clean_exit()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("exit 0");
        bundle.Plan.Set("restart", "on-failure");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        AssertExited(monitor, bundle);
        Assert.Equal("0", bundle.Status()["restart_count"]);
    }

    [Fact]
    public void The_stop_marker_prevents_a_restart()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 0.5; exit 2");
        bundle.Plan.Set("restart", "always");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        File.WriteAllText(Path.Combine(bundle.Bundle, "stop"), "");

        AssertExited(monitor, bundle);
        Assert.Equal("0", bundle.Status()["restart_count"]);
        Assert.Equal("2", bundle.Status()["exit_code"]);
    }

    [Fact]
    public void A_start_failure_is_reported_as_error_with_the_code()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle();
        bundle.Plan.Add("arg", "/no/such/program");
        bundle.Plan.Set("restart", "always");
        using var monitor = MonitorProcess.Start(bundle);

        var frame = monitor.ReadFrame(Wait);
        Assert.True(frame is { Type: Frame.Error }, $"expected ERROR, got {frame}\n{bundle.Describe()}");
        Assert.StartsWith("127 ", frame!.Text, StringComparison.Ordinal);
        AssertExited(monitor, bundle);
        var status = bundle.Status();
        Assert.Equal("127", status["exit_code"]);
        Assert.Contains("/no/such/program", status["error"], StringComparison.Ordinal);
        Assert.Equal("0", status["restart_count"]);
    }

    /// <summary>A stand-in for `exe`: records its argv; as `__exec` it prints and exits with the
    /// code in MODE_FILE ("sleep" = overrun the timeout).</summary>
    private static string FakeExe(MonitorBundle bundle, string modeFile, string argvFile)
    {
        var path = bundle.Scratch("fake-hivelet");
        File.WriteAllText(path, $"""
            #!/bin/sh
            echo "$@" >> {argvFile}
            if [ "$1" = __exec ]; then
              mode=$(cat {modeFile})
              echo "probe <$mode> pid=$3"
              [ "$mode" = sleep ] && exec sleep 31.5
              exit $mode
            fi
            exit 0
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public void Health_goes_starting_to_healthy_to_unhealthy_without_rewriting_status()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 30");
        var mode = bundle.Scratch("mode");
        var argv = bundle.Scratch("argv");
        File.WriteAllText(mode, "0");
        bundle.Plan.Set("exe", FakeExe(bundle, mode, argv))
            .Set("health_interval_ns", 200_000_000)
            .Set("health_timeout_ns", 300_000_000)
            .Set("health_start_period_ns", 0)
            .Set("health_retries", 2);
        using var monitor = MonitorProcess.Start(bundle);
        var pid = StartedPid(monitor, bundle);
        var statusBefore = File.GetLastWriteTimeUtc(bundle.StatusPath);

        JsonElement Health() => JsonDocument.Parse(File.ReadAllText(bundle.HealthPath)).RootElement.Clone();
        string? Status() => File.Exists(bundle.HealthPath) ? Health().GetProperty("Status").GetString() : null;

        Assert.True(MonitorProcess.Eventually(() => Status() == "healthy", Wait), bundle.Describe());
        var healthy = Health();
        Assert.Equal(0, healthy.GetProperty("FailingStreak").GetInt32());
        var first = healthy.GetProperty("Log")[0];
        Assert.Equal(0, first.GetProperty("ExitCode").GetInt32());
        Assert.Equal($"probe <0> pid={pid}\n", first.GetProperty("Output").GetString());
        Assert.True(DateTimeOffset.Parse(first.GetProperty("End").GetString()!, CultureInfo.InvariantCulture) >=
                    DateTimeOffset.Parse(first.GetProperty("Start").GetString()!, CultureInfo.InvariantCulture));
        Assert.Contains($"__exec {bundle.Bundle}/exec.plan {pid}", File.ReadAllText(argv), StringComparison.Ordinal);

        File.WriteAllText(mode, "sleep"); // timeouts count as failures
        Assert.True(MonitorProcess.Eventually(() => Status() == "unhealthy", Wait), bundle.Describe());
        var unhealthy = Health();
        Assert.True(unhealthy.GetProperty("FailingStreak").GetInt32() >= 2);
        var last = unhealthy.GetProperty("Log").EnumerateArray().Last();
        Assert.Equal(-1, last.GetProperty("ExitCode").GetInt32());
        Assert.Equal("Health check exceeded timeout (300ms)", last.GetProperty("Output").GetString());

        File.WriteAllText(mode, "1");
        Assert.True(MonitorProcess.Eventually(
            () => Health().GetProperty("Log").GetArrayLength() == 5 &&
                  Health().GetProperty("Log").EnumerateArray().Last().GetProperty("ExitCode").GetInt32() == 1,
            Wait), bundle.Describe());
        Assert.Equal(5, Health().GetProperty("Log").GetArrayLength()); // the last 5 only

        // Probes never rewrote the status file.
        Assert.Equal(statusBefore, File.GetLastWriteTimeUtc(bundle.StatusPath));
        Assert.Equal("running", bundle.Status()["state"]);
        // No probe is left behind (the killed `sleep 31.5` probes included).
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d)),
            d => int.TryParse(d, out var p) && IsProbeSleep(p));
    }

    /// <summary>The fake probe's overrunning `sleep 31.5`, by its distinctive argument.</summary>
    private static bool IsProbeSleep(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline") == "sleep\u000031.5\u0000";
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public void Health_probes_run_exe___exec_inside_the_container()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 30");
        bundle.Plan.Set("health_interval_ns", 100_000_000)
            .Set("health_timeout_ns", 5_000_000_000)
            .Set("health_start_period_ns", 0)
            .Set("health_retries", 3);
        new PlanFile()
            .Set("version", 1).Set("id", bundle.Id)
            .Add("ns", "mnt").Add("ns", "pid").Add("ns", "uts").Add("ns", "ipc")
            .Set("uid", 0).Set("gid", 0).Set("groups", "").Set("cwd", "/")
            .Add("env", "PATH=/bin")
            .Add("arg", "hostname")
            .Write(Path.Combine(bundle.Bundle, "exec.plan"));
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        Assert.True(MonitorProcess.Eventually(
            () => File.Exists(bundle.HealthPath) && File.ReadAllText(bundle.HealthPath).Contains("\"healthy\"", StringComparison.Ordinal),
            Wait), bundle.Describe() + (File.Exists(bundle.HealthPath) ? File.ReadAllText(bundle.HealthPath) : ""));
        var log = JsonDocument.Parse(File.ReadAllText(bundle.HealthPath)).RootElement.GetProperty("Log")[0];
        // The container's uts namespace answered, not the host's.
        Assert.Equal("monitor-test\n", log.GetProperty("Output").GetString());
        Assert.Equal(0, log.GetProperty("ExitCode").GetInt32());
    }

    [Fact]
    public void Health_failures_within_the_start_period_do_not_count()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 30");
        var mode = bundle.Scratch("mode");
        File.WriteAllText(mode, "1");
        bundle.Plan.Set("exe", FakeExe(bundle, mode, bundle.Scratch("argv")))
            .Set("health_interval_ns", 100_000_000)
            .Set("health_timeout_ns", 1_000_000_000)
            .Set("health_start_period_ns", 60_000_000_000)
            .Set("health_retries", 1);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        Assert.True(MonitorProcess.Eventually(
            () => File.Exists(bundle.HealthPath) &&
                  JsonDocument.Parse(File.ReadAllText(bundle.HealthPath)).RootElement.GetProperty("Log").GetArrayLength() >= 3,
            Wait), bundle.Describe());
        var health = JsonDocument.Parse(File.ReadAllText(bundle.HealthPath)).RootElement;
        Assert.Equal("starting", health.GetProperty("Status").GetString());
        Assert.Equal(0, health.GetProperty("FailingStreak").GetInt32());
    }

    [Fact]
    public void Autoremove_with_an_attached_CLI_that_sends_REMOVED_exits_without_rm()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("exit 5");
        var argv = bundle.Scratch("argv");
        bundle.Plan.Set("exe", FakeExe(bundle, bundle.Scratch("mode"), argv)).Set("autoremove", 1).Set("attach", 1);
        File.WriteAllText(Path.Combine(bundle.Bundle, "container.json"), "{}");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        var frames = monitor.ReadUntil(Frame.Exit, Wait);
        Assert.Equal("5 0", frames[^1].Text);
        // The CLI removes the container itself, then says so.
        monitor.Send(Frame.Removed, []);
        Assert.Null(monitor.ReadFrame(Wait));
        Assert.True(monitor.WaitExit(Wait));
        Assert.Equal(0, monitor.WaitStatus);
        Assert.False(File.Exists(argv), "no `rm -f` after REMOVED: " + (File.Exists(argv) ? File.ReadAllText(argv) : ""));
        Assert.Equal("exited", bundle.Status()["state"]);
        Assert.Equal("5", bundle.Status()["exit_code"]);
    }

    /// <summary>
    /// A replayed run's CLI moves the container's trees into ROOT/trash and names those entries in REMOVED;
    /// the monitor deletes exactly them, joined to its own ROOT/trash, never a name that would leave it. Its
    /// repair marker goes when all went; a name it refused keeps it, so the next command's repair looks.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void REMOVED_names_entries_of_the_trash_which_the_monitor_deletes_and_nothing_else(bool refused)
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("exit 0");
        bundle.Plan.Set("exe", FakeExe(bundle, bundle.Scratch("mode"), bundle.Scratch("argv")))
            .Set("autoremove", 1).Set("attach", 1);
        File.WriteAllText(Path.Combine(bundle.Bundle, "container.json"), "{}");
        var trash = Path.Combine(bundle.Root, "trash");
        var procs = Path.Combine(bundle.Root, "procs");
        Directory.CreateDirectory(Path.Combine(trash, "1-0-layer", "fs", "etc"));
        File.WriteAllText(Path.Combine(trash, "1-0-layer", "fs", "etc", "hosts"), "x");
        File.WriteAllText(Path.Combine(trash, "1-1-file"), "x");
        File.WriteAllText(Path.Combine(trash, "not-named"), "x");
        Directory.CreateDirectory(procs);
        var keep = Path.Combine(bundle.Root, "keep");
        Directory.CreateDirectory(keep);
        File.WriteAllText(Path.Combine(keep, "data"), "x");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        monitor.ReadUntil(Frame.Exit, Wait);

        var names = new List<string> { "1-0-layer", "1-1-file" };
        if (refused)
            names.AddRange(["../keep", "..", ".", "", "1-0-layer/fs", keep]);
        monitor.Send(Frame.Removed, System.Text.Encoding.UTF8.GetBytes(string.Concat(names.Select(n => n + "\0"))));
        Assert.True(monitor.WaitExit(Wait));
        Assert.Equal(0, monitor.WaitStatus);
        Assert.Equal(["not-named"], Directory.GetFileSystemEntries(trash).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(keep, "data")), "a path outside ROOT/trash was deleted");
        if (refused)
        {
            Assert.Single(Directory.GetFileSystemEntries(procs));
            Assert.Contains("not an entry of", File.ReadAllText(bundle.MonitorLog), StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(Directory.GetFileSystemEntries(procs));
        }
    }

    [Fact]
    public void Autoremove_execs_exe_rm_f_when_the_attached_CLI_goes_away_after_EXIT()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("exit 5");
        var argv = bundle.Scratch("argv");
        bundle.Plan.Set("exe", FakeExe(bundle, bundle.Scratch("mode"), argv)).Set("autoremove", 1).Set("attach", 1);
        File.WriteAllText(Path.Combine(bundle.Bundle, "container.json"), "{}");
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);

        var frames = monitor.ReadUntil(Frame.Exit, Wait);
        Assert.Equal("5 0", frames[^1].Text);
        // A CLI killed before it could remove the container: the monitor's fallback does it.
        monitor.CloseSocket();
        Assert.True(monitor.WaitExit(Wait));
        Assert.Equal($"--root {bundle.Root} rm -f {bundle.Id}\n", File.ReadAllText(argv));
        Assert.Equal("exited", bundle.Status()["state"]);
    }

    [Fact]
    public void Autoremove_without_a_CLI_execs_exe_rm_f_after_the_final_exit()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 0.5; exit 5");
        var argv = bundle.Scratch("argv");
        bundle.Plan.Set("exe", FakeExe(bundle, bundle.Scratch("mode"), argv)).Set("autoremove", 1);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        monitor.CloseSocket(); // run -d --rm: the CLI leaves after STARTED

        Assert.True(monitor.WaitExit(Wait));
        Assert.Equal($"--root {bundle.Root} rm -f {bundle.Id}\n", File.ReadAllText(argv));
        Assert.Equal("5", bundle.Status()["exit_code"]);
    }

    [Fact]
    public void Kill_9_of_the_monitor_leaves_a_status_that_is_not_exited()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("sleep 30");
        using var monitor = MonitorProcess.Start(bundle);
        var pid = StartedPid(monitor, bundle);

        monitor.Kill9();
        var status = bundle.Status();
        Assert.Equal("running", status["state"]);
        Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), status["pid"]);
        // The managed side sees the monitor is gone: its pid is dead or reused.
        Assert.NotEqual(status["monitor_start"],
            MonitorProcess.ProcStart(monitor.Pid).ToString(CultureInfo.InvariantCulture));
        Assert.False(File.Exists(bundle.StatusPath + ".tmp"));
    }

    [Fact]
    public void The_monitor_stays_small()
    {
        if (NotRoot())
            return;
        using var bundle = new MonitorBundle().Shell("while true; do echo tick; sleep 0.05; done");
        bundle.Plan.Set("log_max_size", 4096).Set("log_max_files", 2);
        using var monitor = MonitorProcess.Start(bundle);
        StartedPid(monitor, bundle);
        Thread.Sleep(1000);

        var status = File.ReadAllLines($"/proc/{monitor.Pid}/status");
        string Field(string name) => status.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        output.WriteLine($"monitor VmRSS {Field("VmRSS")} (anon {Field("RssAnon")}, file {Field("RssFile")}), threads {Field("Threads")}");
        Assert.Equal("1", Field("Threads"));
        var rssKb = long.Parse(Field("VmRSS").Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.InRange(rssKb, 1, 8 * 1024);
    }
}
