using System.Globalization;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>ps --format/--filter, inspect -f/--type and container prune sizes with the published binary (root).</summary>
public sealed class ContainerFormatTests
{
    [Fact]
    public async Task Ps_formats_with_go_templates_and_filters_like_docker()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var web = (await c.Cli.RunOkAsync("run", "-d", "--name", "web", "--label", "role=front", ContainerCli.Image, "sleep", "60")).Stdout.Trim();
        var done = (await c.Cli.RunOkAsync("run", "-d", "--name", "done", ContainerCli.Image, "exit", "3")).Stdout.Trim();
        await c.Cli.RunAsync("wait", "done");

        var table = await c.Cli.RunOkAsync("ps", "-a", "--format", "table {{.ID}}\\t{{.Names}}\\t{{.Label \"role\"}}");
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("CONTAINER ID   NAMES     ROLE", lines[0].TrimEnd());
        Assert.Contains($"{web[..12]}   web       front", lines, StringComparer.Ordinal);
        Assert.Contains($"{done[..12]}   done", lines.Select(l => l.TrimEnd()), StringComparer.Ordinal);

        var plain = await c.Cli.RunOkAsync("ps", "--format", "{{.Names}}: {{.State}}");
        Assert.Equal("web: running", plain.Stdout.Trim());
        // {{json .}} is --format json: the same fields in the same order (RunningFor may tick between the two).
        var json = JsonDocument.Parse((await c.Cli.RunOkAsync("ps", "--format", "{{json .}}")).Stdout).RootElement;
        var builtIn = JsonDocument.Parse((await c.Cli.RunOkAsync("ps", "--format", "json")).Stdout).RootElement;
        Assert.Equal(builtIn.EnumerateObject().Select(p => p.Name), json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(builtIn.GetProperty("ID").GetString(), json.GetProperty("ID").GetString());
        Assert.Equal("web", json.GetProperty("Names").GetString());

        // CreatedAt as Go's time.Time.String() in the local zone, as Docker prints it.
        c.Cli.Environment["TZ"] = "UTC";
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$",
            (await c.Cli.RunOkAsync("ps", "-a", "-f", "name=done", "--format", "{{.CreatedAt}}")).Stdout.Trim());
        if (File.Exists("/usr/share/zoneinfo/Asia/Tokyo"))
        {
            c.Cli.Environment["TZ"] = "Asia/Tokyo"; // no daylight saving time: always +0900 JST
            Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0900 JST$",
                (await c.Cli.RunOkAsync("ps", "-a", "-f", "name=done", "--format", "{{.CreatedAt}}")).Stdout.Trim());
        }
        c.Cli.Environment.Remove("TZ");

        var unknown = await c.Cli.RunAsync("ps", "--format", "{{.Nope}}");
        Assert.Equal(125, unknown.ExitCode);
        Assert.Contains("can't evaluate field Nope", unknown.Stderr, StringComparison.Ordinal);

        Assert.Equal(done, (await c.Cli.RunOkAsync("ps", "-q", "--no-trunc", "--filter", "status=exited")).Stdout.Trim());
        Assert.Equal(done, (await c.Cli.RunOkAsync("ps", "-q", "--no-trunc", "-f", "exited=3")).Stdout.Trim());
        Assert.Equal("", (await c.Cli.RunOkAsync("ps", "-q", "-f", "exited=4")).Stdout.Trim());
        Assert.Equal(web, (await c.Cli.RunOkAsync("ps", "-aq", "--no-trunc", "-f", "label=role=front")).Stdout.Trim());
        Assert.Equal(web, (await c.Cli.RunOkAsync("ps", "-aq", "--no-trunc", "-f", "name=we")).Stdout.Trim());
        Assert.Equal(done, (await c.Cli.RunOkAsync("ps", "-aq", "--no-trunc", "-f", $"id={done[..6]}")).Stdout.Trim());
        Assert.Equal(2, (await c.Cli.RunOkAsync("ps", "-aq", "-f", $"ancestor={ContainerCli.Image}")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(done, (await c.Cli.RunOkAsync("ps", "-q", "--no-trunc", "-l")).Stdout.Trim());
        var bad = await c.Cli.RunAsync("ps", "-f", "colour=red");
        Assert.Equal(125, bad.ExitCode);
        Assert.Contains("invalid filter 'colour'", bad.Stderr, StringComparison.Ordinal);

        var images = await c.Cli.RunOkAsync("images", "--format", "{{.Repository}}:{{.Tag}}");
        Assert.Equal("hivelet/fixture:latest", images.Stdout.Trim());
    }

    [Fact]
    public async Task Inspect_prints_one_array_and_formats_paths_of_its_json()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var id = (await c.Cli.RunOkAsync("create", "--name", "box", ContainerCli.Image, "pid")).Stdout.Trim();

        var both = await c.Cli.RunOkAsync("inspect", "box", ContainerCli.Image);
        var array = JsonDocument.Parse(both.Stdout).RootElement;
        Assert.Equal(2, array.GetArrayLength());
        Assert.Equal(id, array[0].GetProperty("Id").GetString());
        Assert.StartsWith("sha256:", array[1].GetProperty("Id").GetString(), StringComparison.Ordinal);

        var status = await c.Cli.RunOkAsync("inspect", "-f", "{{.State.Status}} {{.Name}}", "box");
        Assert.Equal("created /box", status.Stdout.Trim());
        var config = await c.Cli.RunOkAsync("inspect", "--format", "{{json .Config.Cmd}}", "box");
        Assert.Equal("[\"pid\"]", config.Stdout.Trim());
        var imageOnly = await c.Cli.RunOkAsync("inspect", "--type", "image", "-f", "{{.Id}}", ContainerCli.Image);
        Assert.Equal(array[1].GetProperty("Id").GetString(), imageOnly.Stdout.Trim());
        var notImage = await c.Cli.RunAsync("inspect", "--type", "image", "box");
        Assert.Contains("No such image: box", notImage.Stderr, StringComparison.Ordinal);
        var badType = await c.Cli.RunAsync("inspect", "--type", "volume", "box");
        Assert.Equal(125, badType.ExitCode);
        Assert.Contains("\"volume\" is not a valid value for --type", badType.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Container_prune_counts_what_the_container_wrote()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        await c.Cli.RunOkAsync("run", "--name", "writer", ContainerCli.Image, "write", "/big.txt", new string('x', 120_000));
        var prune = await c.Cli.RunOkAsync("container", "prune", "-f");
        var reclaimed = prune.Stdout.Split('\n').Single(l => l.StartsWith("Total reclaimed space: ", StringComparison.Ordinal))[23..].Trim();
        Assert.EndsWith("kB", reclaimed, StringComparison.Ordinal);
        Assert.True(double.Parse(reclaimed[..^2], CultureInfo.InvariantCulture) >= 120, prune.Stdout);
    }

    [Fact]
    public async Task Ps_size_shows_the_writable_layer_and_the_virtual_size_as_docker()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        await c.Cli.RunOkAsync("run", "--name", "writer", ContainerCli.Image, "write", "/big.txt", new string('x', 120_000));
        using var inspect = JsonDocument.Parse((await c.Cli.RunOkAsync("image", "inspect", ContainerCli.Image)).Stdout);
        long image = inspect.RootElement[0].GetProperty("Size").GetInt64();
        // Docker's units.HumanSizeWithPrecision(n, 3): 120000 B is "120kB"; what else the runtime writes is too small to show.
        var expected = $"120kB (virtual {HumanSize3(120_000 + image)})";

        var table = (await c.Cli.RunOkAsync("ps", "-a", "-s")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\s+SIZE$", table[0]);
        Assert.Matches(@"\swriter\s+" + System.Text.RegularExpressions.Regex.Escape(expected) + "$", table[1]);
        Assert.DoesNotContain("SIZE", (await c.Cli.RunOkAsync("ps", "-a")).Stdout, StringComparison.Ordinal);

        // A format that shows .Size asks for sizes by itself, unless --size=false says not to.
        Assert.Equal(expected, (await c.Cli.RunOkAsync("ps", "-a", "--format", "{{.Size}}")).Stdout.Trim());
        Assert.Equal("0B", (await c.Cli.RunOkAsync("ps", "-a", "--size=false", "--format", "{{.Size}}")).Stdout.Trim());
        var header = (await c.Cli.RunOkAsync("ps", "-a", "--format", "table {{.Names}}\\t{{.Size}}")).Stdout.Split('\n')[0];
        Assert.Matches(@"^NAMES\s+SIZE$", header);
        using var json = JsonDocument.Parse((await c.Cli.RunOkAsync("ps", "-a", "--format", "json")).Stdout);
        Assert.Equal(expected, json.RootElement.GetProperty("Size").GetString());
    }

    /// <summary>Go's %.3g of the value in decimal units, as docker/cli prints container sizes.</summary>
    private static string HumanSize3(double bytes)
    {
        string[] suffixes = ["B", "kB", "MB", "GB"];
        int i = 0;
        while (bytes >= 1000 && i < suffixes.Length - 1)
        {
            bytes /= 1000;
            i++;
        }
        var digits = bytes < 10 ? 2 : bytes < 100 ? 1 : 0;
        return Math.Round(bytes, digits).ToString("0.##", CultureInfo.InvariantCulture) + suffixes[i];
    }
}
