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

    private static async Task<string> SttyAsync(Pty pty, string mode)
    {
        var result = await ProcessRunner.RunAsync("stty", ["-F", pty.SlavePath, mode], TimeSpan.FromSeconds(10));
        return result.EnsureSuccess().Stdout.Trim();
    }
}
