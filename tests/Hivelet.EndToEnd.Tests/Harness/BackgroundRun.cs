using System.Diagnostics;
using System.Text;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// A hivelet command running in the background, for tests that kill it part way (kill -9 of the
/// whole tree). Output is collected as it comes so a test can wait for a line. Dispose kills it.
/// </summary>
public sealed class BackgroundRun : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private BackgroundRun(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts `hivelet --root ROOT args...` with the CLI's environment.</summary>
    public static BackgroundRun Start(HiveletCli cli, params string[] args)
    {
        var psi = new ProcessStartInfo(cli.Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args.Prepend(cli.Root).Prepend("--root"))
            psi.ArgumentList.Add(a);
        foreach (var (key, value) in cli.Environment)
        {
            if (value is null)
                psi.Environment.Remove(key);
            else
                psi.Environment[key] = value;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {cli.Binary}");
        process.StandardInput.Close();
        return new BackgroundRun(process);
    }

    public string Stdout => Snapshot(_stdout);

    public string Stderr => Snapshot(_stderr);

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The hivelet process itself (for signals to it alone; its children keep running).</summary>
    public int Pid => _process.Id;

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; fails if the process ends first.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"hivelet exited with {_process.ExitCode} before {what}\n{Describe()}");
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"no {what} within {timeout.TotalSeconds:F0}s\n{Describe()}");
            await Task.Delay(10);
        }
    }

    /// <summary>SIGKILL to the process and its children, then waits until it is gone.</summary>
    public void KillHard()
    {
        ProcessRunner.Kill(_process);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGKILL to this process alone (what `kill -9 PID` does), then waits until it is gone.</summary>
    public void KillProcessOnly()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
    }

    public string Describe() => $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    public void Dispose()
    {
        ProcessRunner.Kill(_process);
        _process.Dispose();
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is null)
            return;
        lock (sb)
            sb.Append(line).Append('\n');
    }

    private static string Snapshot(StringBuilder sb)
    {
        lock (sb)
            return sb.ToString();
    }
}
