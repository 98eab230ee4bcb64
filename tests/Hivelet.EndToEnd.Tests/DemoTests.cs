using System.Text.Json;
using System.Text.RegularExpressions;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>What README's first command (`./build.sh demo`) shows, run step by step with the binary.</summary>
public sealed partial class DemoTests
{
    private static string FixtureArchive => Path.Combine(RepoPaths.FixturesDir, "hivelet-fixture.tar");

    [Fact]
    public async Task Demo_sequence_loads_lists_and_inspects_the_fixture_image()
    {
        Assert.True(File.Exists(FixtureArchive), $"{FixtureArchive} is missing: run ./build.sh fixtures (or set HIVELET_FIXTURES)");
        using var cli = new HiveletCli();

        var load = await cli.RunOkAsync("load", "-i", FixtureArchive);
        Assert.Equal($"Loaded image: {FixtureSets.FixtureTag}", load.Stdout.Trim());
        Assert.Equal("", load.Stderr);

        var images = ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout);
        Assert.Equal(2, images.Count);
        var row = ImageVerbTests.Row(images[1]);
        Assert.Equal(["hivelet/fixture", "latest"], row.Take(2));
        Assert.Matches("^[0-9a-f]{12}$", row[2]);
        Assert.Matches(@"^[0-9.]+\s?[kMG]?B$", row[^1]);

        var inspect = await cli.RunOkAsync("image", "inspect", FixtureSets.FixtureTag);
        using var json = JsonDocument.Parse(inspect.Stdout);
        var image = Assert.Single(json.RootElement.EnumerateArray());
        Assert.StartsWith($"sha256:{row[2]}", image.GetProperty("Id").GetString(), StringComparison.Ordinal);
        Assert.Equal([FixtureSets.FixtureTag], ImageVerbTests.Strings(image.GetProperty("RepoTags")));
        Assert.Equal("amd64", image.GetProperty("Architecture").GetString());
        Assert.Equal("linux", image.GetProperty("Os").GetString());
        Assert.Equal(["/bin/fixture"], ImageVerbTests.Strings(image.GetProperty("Config").GetProperty("Entrypoint")));
        Assert.NotEmpty(ImageVerbTests.Strings(image.GetProperty("RootFS").GetProperty("Layers")));
        // Docker indents inspect output; one line of JSON would be unreadable in the demo.
        Assert.StartsWith("[\n    {", inspect.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_script_demo_runs_each_of_its_steps_with_no_not_implemented_note()
    {
        var script = await File.ReadAllTextAsync(Path.Combine(RepoPaths.RepoRoot, "build.sh"));
        Assert.DoesNotContain("not implemented", script, StringComparison.OrdinalIgnoreCase);
        var steps = DemoStep().Matches(script).Select(m => m.Groups[1].Value).ToList();
        Assert.True(steps.Count >= 4, $"expected the demo's steps in build.sh, found {steps.Count}");
        using var cli = new HiveletCli();

        foreach (var step in steps)
        {
            var args = Arguments().Matches(step).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Value)
                .Select(a => a.Replace("${FIXTURES#\"$REPO\"/}", RepoPaths.FixturesDir, StringComparison.Ordinal))
                .ToArray();
            Assert.DoesNotContain(args, a => a.Contains('$', StringComparison.Ordinal));
            var result = await cli.RunOkAsync(args);
            Assert.DoesNotContain("not implemented", result.Stdout + result.Stderr, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>`demo_step "$bin" "$root" ARGS…` lines of build.sh; group 1 holds ARGS.</summary>
    [GeneratedRegex(@"^\s*demo_step ""\$bin"" ""\$root"" (.+)$", RegexOptions.Multiline)]
    private static partial Regex DemoStep();

    /// <summary>Shell words: "double quoted" (group 1) or bare.</summary>
    [GeneratedRegex(@"""([^""]*(?:""[^""]*""[^""]*)*)""(?=\s|$)|\S+")]
    private static partial Regex Arguments();
}
