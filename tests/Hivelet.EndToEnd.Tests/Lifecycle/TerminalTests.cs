using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>`hivelet run -it` on a real pseudo-terminal: echo, raw mode, window size, exit code, restored mode.</summary>
[Collection(LifecycleCollection.Name)]
public sealed class TerminalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Run_it_echoes_follows_resizes_exits_with_the_shells_code_and_restores_the_terminal()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        using var pty = new Pty(24, 80);
        var before = await SttyAsync(pty, "-g");
        Assert.Contains(" icanon ", " " + await SttyAsync(pty, "-a").ContinueWith(t => t.Result.Replace(';', ' ').Replace('\n', ' '), TaskScheduler.Default) + " ", StringComparison.Ordinal);

        pty.Start(c.Cli, "run", "-it", "--rm", ContainerCli.Busybox, "sh");
        await pty.WaitForAsync("# ", 0, Patience);

        // While attached the outer terminal is raw: no local echo or line editing by the host's tty.
        var raw = await SttyAsync(pty, "-a");
        Assert.Contains("-icanon", raw, StringComparison.Ordinal);
        Assert.Contains("-echo ", raw, StringComparison.Ordinal);

        var mark = pty.Output.Length;
        pty.Type("echo hel''lo $((6*7))\r");
        // The container's terminal echoes what was typed, then the command prints its output.
        await pty.WaitForAsync("echo hel''lo $((6*7))", mark, Patience);
        await pty.WaitForAsync("hello 42", mark, Patience);

        mark = pty.Output.Length;
        pty.Type("stty size; [ -t 0 ] && [ -t 1 ] && echo terminal-$((1+1))\r");
        await pty.WaitForAsync("24 80", mark, Patience);
        await pty.WaitForAsync("terminal-2", mark, Patience);

        // The terminal is the container's own (its devpts), so ttyname() names it there, as with Docker.
        mark = pty.Output.Length;
        pty.Type("tty; echo tty-$?\r");
        await pty.WaitForAsync("tty-0", mark, Patience);
        Assert.Contains("\n/dev/pts/0\r\n", pty.Output[mark..], StringComparison.Ordinal);

        pty.Resize(40, 100);
        // SIGWINCH reaches the CLI asynchronously: ask again until the container sees the new size.
        var seen = false;
        for (var attempt = 0; attempt < 50 && !seen; attempt++)
        {
            mark = pty.Output.Length;
            pty.Type("stty size\r");
            await pty.WaitForAsync("\n", mark + "stty size".Length, Patience);
            try
            {
                await pty.WaitForAsync("40 100", mark, TimeSpan.FromMilliseconds(300));
                seen = true;
            }
            catch (TimeoutException)
            {
            }
        }
        Assert.True(seen, $"the container never saw 40x100:\n{pty.Output}");

        pty.Type("exit 3\r");
        Assert.Equal(3, await pty.WaitForExitAsync(Patience));
        Assert.Equal(before, await SttyAsync(pty, "-g"));
        Assert.Empty(Directory.GetDirectories(c.ContainersDir));
    }

    [Fact]
    public async Task Exec_it_gets_a_pty_of_the_containers_devpts_with_the_callers_size_and_resizes()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();
        await c.Cli.RunOkAsync("run", "-d", "--name", "shell", ContainerCli.Busybox, "sleep", "1000");
        try
        {
            using var pty = new Pty(30, 90);
            var before = await SttyAsync(pty, "-g");
            pty.Start(c.Cli, "exec", "-it", "shell", "sh");
            await pty.WaitForAsync("# ", 0, Patience);
            Assert.Contains("-icanon", await SttyAsync(pty, "-a"), StringComparison.Ordinal);

            var mark = pty.Output.Length;
            pty.Type("tty; stty size; echo done-$((2+3))\r");
            await pty.WaitForAsync("done-5", mark + "tty; stty size; echo done-$((2+3))".Length, Patience);
            var answer = pty.Output[mark..];
            Assert.Matches(@"\n/dev/pts/\d+\r\n30 90\r\n", answer);

            pty.Resize(41, 101);
            var seen = false;
            for (var attempt = 0; attempt < 50 && !seen; attempt++)
            {
                mark = pty.Output.Length;
                pty.Type("stty size\r");
                await pty.WaitForAsync("\n", mark + "stty size".Length, Patience);
                try
                {
                    await pty.WaitForAsync("41 101", mark, TimeSpan.FromMilliseconds(300));
                    seen = true;
                }
                catch (TimeoutException)
                {
                }
            }
            Assert.True(seen, $"the exec never saw 41x101:\n{pty.Output}");

            pty.Type("exit 4\r");
            Assert.Equal(4, await pty.WaitForExitAsync(Patience));
            Assert.Equal(before, await SttyAsync(pty, "-g"));

            // exec -t without a terminal (the harness's stdin is a pipe): a pty all the same, output only.
            var t = await c.Cli.RunAsync("exec", "-t", "shell", "busybox", "tty");
            Assert.True(t.ExitCode == 0, t.ToString());
            Assert.Matches(@"^/dev/pts/\d+\r?\n$", t.Stdout);

            // A non-root user owns its terminal, as with runc: it can open it by name.
            var user = await c.Cli.RunAsync("exec", "-t", "-u", "1000", "shell", "sh", "-c", "echo to-tty > $(busybox tty)");
            Assert.True(user.ExitCode == 0, user.ToString());
            Assert.Equal("to-tty\r\n", user.Stdout);
        }
        finally
        {
            await c.Cli.RunAsync("rm", "-f", "shell");
        }
    }

    [Fact]
    public async Task It_without_a_terminal_is_refused_as_docker_does_but_t_alone_runs()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox();

        // The harness's stdin is a pipe, not a terminal.
        var refused = await c.Cli.RunAsync("run", "-it", "--rm", ContainerCli.Busybox, "true");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("the input device is not a TTY", refused.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(c.ContainersDir) ? Directory.GetDirectories(c.ContainersDir) : []);

        // -t alone: the container still gets its own terminal, the caller just reads its output.
        var alone = await c.Cli.RunAsync("run", "-t", "--rm", ContainerCli.Busybox, "busybox", "tty");
        Assert.True(alone.ExitCode == 0, alone.ToString());
        Assert.Equal("/dev/pts/0\r\n", alone.Stdout);

        await c.Cli.RunOkAsync("run", "-d", "--name", "idle", ContainerCli.Busybox, "sleep", "1000");
        try
        {
            var exec = await c.Cli.RunAsync("exec", "-it", "idle", "true");
            Assert.Equal(1, exec.ExitCode);
            Assert.Contains("the input device is not a TTY", exec.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await c.Cli.RunAsync("rm", "-f", "idle");
        }
    }

    private static async Task<string> SttyAsync(Pty pty, string mode)
    {
        var result = await ProcessRunner.RunAsync("stty", ["-F", pty.SlavePath, mode], TimeSpan.FromSeconds(10));
        return result.EnsureSuccess().Stdout.Trim();
    }
}
