namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>What a finished child process left: exit code and everything it wrote.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws (failing the test) with the full output unless the exit code was 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
            throw new InvalidOperationException($"`{Command}` exited with {ExitCode}\n{Describe()}");
        return this;
    }

    public string Describe() => $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    public override string ToString() => $"`{Command}` -> {ExitCode} in {Elapsed.TotalSeconds:F1}s\n{Describe()}";
}
