using Hivelet.EndToEnd.Tests.Containers;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.ContainerTools;

/// <summary>cp, container prune and info with the published binary and the fixture image (root).</summary>
public sealed class ContainerToolsVerbTests
{
    private const string Hello = "hello from the fixture image\n";

    [Fact]
    public async Task Cp_copies_a_file_out_of_a_stopped_and_of_a_running_container_and_in()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        using var host = new TempDirectory("hivelet-cp");

        await c.Cli.RunOkAsync("create", "--name", "stopped", ContainerCli.Image, "pid");
        var fromStopped = host.Combine("stopped.txt");
        await c.Cli.RunOkAsync("cp", "stopped:/home/hivelet/hello.txt", fromStopped);
        Assert.Equal(Hello, await File.ReadAllTextAsync(fromStopped));

        var id = (await c.Cli.RunOkAsync("run", "-d", "--name", "running", ContainerCli.Image, "sleep", "60")).Stdout.Trim();
        var fromRunning = host.Combine("running.txt");
        // A running container is read through its mounts: /etc/hostname is the bind mount of its short id.
        await c.Cli.RunOkAsync("container", "cp", "running:/etc/hostname", fromRunning);
        Assert.Equal(id[..12] + "\n", await File.ReadAllTextAsync(fromRunning));

        var input = host.Combine("in.txt");
        await File.WriteAllTextAsync(input, "copied in\n");
        await c.Cli.RunOkAsync("cp", input, "running:/tmp/");
        var cat = await c.Cli.RunOkAsync("exec", "running", "/bin/fixture", "cat", "/tmp/in.txt");
        Assert.Equal("copied in\n", cat.Stdout);

        // The same file copied into the stopped container lands in its snapshot.
        await c.Cli.RunOkAsync("cp", input, "stopped:/tmp/in.txt");
        var back = host.Combine("back.txt");
        await c.Cli.RunOkAsync("cp", "stopped:/tmp/in.txt", back);
        Assert.Equal("copied in\n", await File.ReadAllTextAsync(back));

        var missing = await c.Cli.RunAsync("cp", "stopped:/no/such/file", host.Combine("x"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("/no/such/file", missing.Stderr, StringComparison.Ordinal);
        var noContainer = await c.Cli.RunAsync("cp", "nosuch:/etc/hostname", host.Combine("x"));
        Assert.NotEqual(0, noContainer.ExitCode);
        Assert.Contains("No such container:path: nosuch:/etc/hostname", noContainer.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cp_through_a_container_symlink_to_the_root_stays_inside_the_container()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        using var host = new TempDirectory("hivelet-cp");
        await c.Cli.RunOkAsync("create", "--name", "linked", ContainerCli.Image, "pid");
        // A symlink copied in stays a symlink: /escape -> / inside the container.
        var link = host.Combine("escape");
        File.CreateSymbolicLink(link, "/");
        await c.Cli.RunOkAsync("cp", link, "linked:/escape");

        var copied = host.Combine("hostname");
        await c.Cli.RunOkAsync("cp", "linked:/escape/etc/hostname", copied);
        Assert.Equal("fixture\n", await File.ReadAllTextAsync(copied));
        Assert.NotEqual("fixture\n", await File.ReadAllTextAsync("/etc/hostname"));

        // A relative climb out through the link ends at the container's root too.
        var climbed = host.Combine("climbed");
        await c.Cli.RunOkAsync("cp", "linked:/escape/../../../etc/hostname", climbed);
        Assert.Equal("fixture\n", await File.ReadAllTextAsync(climbed));
    }

    [Fact]
    public async Task Container_prune_removes_an_exited_container_and_keeps_a_running_one()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var exited = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Image, "pid")).Stdout.Trim();
        var running = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Image, "sleep", "60")).Stdout.Trim();
        await c.Cli.RunOkAsync("wait", exited);

        var refused = await c.Cli.RunAsync(["container", "prune"], stdin: "y\n");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--force", refused.Stderr, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(c.ContainersDir, exited)));

        var prune = await c.Cli.RunOkAsync("container", "prune", "-f");
        Assert.Contains("Deleted Containers:", prune.Stdout, StringComparison.Ordinal);
        Assert.Contains(exited, prune.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(running, prune.Stdout, StringComparison.Ordinal);
        Assert.Contains("Total reclaimed space: ", prune.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(c.ContainersDir, exited)));
        var ps = await c.Cli.RunOkAsync("ps", "-aq", "--no-trunc");
        Assert.Equal(running, ps.Stdout.Trim());
    }

    [Fact]
    public async Task Info_prints_the_cgroup_version_and_the_storage_driver()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: info reads the store as root");
            return;
        }
        using var cli = new HiveletCli();
        var info = await cli.RunOkAsync("info");
        Assert.Contains("Cgroup Version: ", info.Stdout, StringComparison.Ordinal);
        Assert.Contains("Storage Driver: ", info.Stdout, StringComparison.Ordinal);
        Assert.Contains("Containers: 0", info.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Kernel Version: {(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease")).Trim()}", info.Stdout, StringComparison.Ordinal);

        var system = await cli.RunOkAsync("system", "info", "--format", "json");
        Assert.Contains("\"CgroupVersion\":", system.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"Driver\":", system.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("{", system.Stdout.Trim(), StringComparison.Ordinal);
    }
}
