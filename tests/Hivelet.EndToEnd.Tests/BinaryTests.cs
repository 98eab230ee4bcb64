using System.Text.RegularExpressions;
using System.Xml.Linq;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests;

/// <summary>The published binary starts and handles its arguments.</summary>
public sealed partial class BinaryTests
{
    [Fact]
    public async Task Version_prints_the_project_version_and_commit()
    {
        using var cli = new HiveletCli();
        var result = await cli.RunOkAsync("version");

        var version = XDocument.Load(Path.Combine(RepoPaths.RepoRoot, "src", "Hivelet.Cli", "Hivelet.Cli.csproj"))
            .Descendants("Version").Single().Value;
        Assert.Contains($"hivelet {version}", result.Stdout, StringComparison.Ordinal);
        var commit = CommitLine().Match(result.Stdout);
        Assert.True(commit.Success, $"no commit line in:\n{result.Stdout}");
        var expected = Environment.GetEnvironmentVariable("HIVELET_EXPECT_COMMIT");
        if (!string.IsNullOrEmpty(expected))
            Assert.Equal(expected, commit.Groups[1].Value);
        else
            Assert.Matches("^([0-9a-f]{7,40}|unknown)$", commit.Groups[1].Value);
        Assert.Contains("linux/amd64", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Unknown_verb_fails_with_a_one_line_error_and_no_help_dump()
    {
        using var cli = new HiveletCli();
        var result = await cli.RunAsync("frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var error = Assert.Single(lines, l => l.Contains("frobnicate", StringComparison.Ordinal));
        Assert.StartsWith("hivelet: ", error, StringComparison.Ordinal);
        // A pointer to --help may follow, but not the help itself.
        Assert.True(lines.Length <= 3, $"expected a short error, got:\n{result}");
        Assert.DoesNotContain("Usage:", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout.Trim());
    }

    [Fact]
    public async Task Runaway_process_is_killed_at_the_timeout()
    {
        // The harness itself: a child that overruns is killed, and the failure says so.
        var sleep = ProcessRunner.Which("sleep") ?? throw new InvalidOperationException("sleep(1) not on PATH");
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            ProcessRunner.RunAsync(sleep, ["30"], TimeSpan.FromMilliseconds(300)));
        Assert.Contains("was killed", e.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [GeneratedRegex(@"Commit:\s+(\S+)")]
    private static partial Regex CommitLine();
}
