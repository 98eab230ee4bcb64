using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>The store repair that every command runs removes cgroups of containers that no longer exist (root, hybrid host).</summary>
public sealed class StaleCgroupTests
{
    private static readonly string[] Hierarchies = ["memory", "pids", "cpu", "devices"];

    [Fact]
    public async Task Repair_removes_an_old_empty_hivelet_group_of_a_gone_container_and_keeps_a_live_ones()
    {
        if (!ContainerCli.Privileged || !Directory.Exists("/sys/fs/cgroup/memory"))
        {
            Console.WriteLine("skipped: needs root and the v1 controllers of the hybrid host");
            return;
        }
        using var c = new ContainerCli();
        var live = (await c.Cli.RunOkAsync("create", ContainerCli.Image, "true")).Stdout.Trim();
        // A container killed between create and rm on a store that is gone: only its groups are left.
        var gone = "dead" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")[..28];
        var dirs = Hierarchies.Select(h => $"/sys/fs/cgroup/{h}/hivelet/{gone}").Concat(
            Hierarchies.Select(h => $"/sys/fs/cgroup/{h}/hivelet/{live}")).ToList();
        try
        {
            foreach (var dir in dirs)
                Directory.CreateDirectory(dir);
            // Only the gone container's groups are aged past the grace. The live one's stay young: every
            // store root on the host shares the parent, so other tests' repairs running now would take an
            // old empty group of this root for theirs to clean. That a group this root knows is kept however
            // old it is, is covered on a fake tree (CgroupManagerTests.CleanupStaleForOneStore...).
            foreach (var h in Hierarchies)
                Directory.SetLastWriteTimeUtc($"/sys/fs/cgroup/{h}/hivelet/{gone}", DateTime.UtcNow.AddHours(-1));

            // Repair runs when a command died or the root looks new to the repair gate (no boot record).
            var bootRecord = Path.Combine(c.Cli.Root, "procs", "boot");
            if (File.Exists(bootRecord))
                File.Delete(bootRecord);
            await c.Cli.RunOkAsync("ps", "-a");

            Assert.All(Hierarchies, h => Assert.False(Directory.Exists($"/sys/fs/cgroup/{h}/hivelet/{gone}"), h));
            Assert.All(Hierarchies, h => Assert.True(Directory.Exists($"/sys/fs/cgroup/{h}/hivelet/{live}"), h));
        }
        finally
        {
            foreach (var dir in dirs.Where(Directory.Exists))
                Directory.Delete(dir);
        }
    }
}
