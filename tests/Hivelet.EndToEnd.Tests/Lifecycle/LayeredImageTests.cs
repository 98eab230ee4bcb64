using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>
/// The images issue's three-layer fixture (gzip, zstd, plain tar) on top of busybox, run with
/// `hivelet run` and inspected from inside: whiteouts, opaque dirs, hard links, owners, modes.
/// </summary>
[Collection(LifecycleCollection.Name)]
public sealed class LayeredImageTests
{
    private const string Tag = "hivelet/e2e-layered:latest";

    [Fact]
    public async Task Whiteouts_opaque_dirs_hard_links_owners_and_setuid_bits_as_seen_by_the_container()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        c.LoadBusybox(Tag, FixtureSets.Layered());

        const string script = """
            for p in /etc/to-delete /opt/gone /opt/gone/file /var/cache/app/old-1; do
              if [ -e "$p" ]; then echo "exists:$p=yes"; else echo "exists:$p=no"; fi
            done
            echo "opt=$(ls -A /opt | tr '\n' ' ')"
            echo "app=$(ls -A /var/cache/app | tr '\n' ' ')"
            echo "a.txt=$(cat /usr/share/doc/a.txt)"
            echo "os-release=$(cat /etc/os-release)"
            echo "tool=$(stat -c '%i %h %a' /usr/bin/tool)"
            echo "tool-link=$(stat -c '%i %h %a' /usr/bin/tool-link)"
            echo "one=$(stat -c '%i %h %u:%g' /data/one) $(cat /data/one)"
            echo "two=$(stat -c '%i %h %u:%g' /data/two) $(cat /data/two)"
            echo "su-like=$(stat -c '%a %u:%g' /usr/bin/su-like)"
            echo "notes=$(stat -c '%u:%g %a' /home/user/notes.txt)"
            echo "home-user=$(stat -c '%u:%g' /home/user)"
            echo "fifo=$(stat -c '%F' /run/fifo)"
            echo "localtime=$(stat -c '%N' /etc/localtime)"
            echo "id=$(id -u):$(id -g)"
            echo "cwd=$(pwd)"
            """;
        // The image's own User (1000:1000) and WorkingDir (/data) apply.
        var run = await c.Cli.RunAsync("run", "--rm", Tag, "sh", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        var output = run.ToString();
        var f = Facts.Parse(run.Stdout);

        Assert.Equal("no", f.Get("exists:/etc/to-delete", output));
        Assert.Equal("no", f.Get("exists:/opt/gone", output));
        Assert.Equal("no", f.Get("exists:/opt/gone/file", output));
        Assert.Equal("no", f.Get("exists:/var/cache/app/old-1", output));
        Assert.Equal("", f.Get("opt", output).Trim());
        Assert.Equal("new", f.Get("app", output).Trim());
        Assert.Equal("a from layer 1", f.Get("a.txt", output));
        Assert.Equal("ID=hivelet-layered", f.Get("os-release", output));

        var tool = f.Get("tool", output).Split(' ');
        Assert.Equal(tool, f.Get("tool-link", output).Split(' '));
        Assert.Equal(["2", "755"], tool[1..]);
        var one = f.Get("one", output).Split(' ');
        Assert.Equal(one, f.Get("two", output).Split(' '));
        Assert.Equal(["2", "1000:1000", "1"], one[1..]);

        Assert.Equal("4755 0:0", f.Get("su-like", output));
        Assert.Equal("1000:1000 644", f.Get("notes", output));
        Assert.Equal("1000:1000", f.Get("home-user", output));
        Assert.Equal("fifo", f.Get("fifo", output));
        Assert.Contains("-> '/usr/share/zoneinfo/UTC'", f.Get("localtime", output), StringComparison.Ordinal);
        Assert.Equal("1000:1000", f.Get("id", output));
        Assert.Equal("/data", f.Get("cwd", output));
    }
}
