using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>rmi, image prune and the GC against images that containers use (root, published binary).</summary>
public sealed class ImageInUseTests
{
    [Fact]
    public async Task Rmi_refuses_images_in_use_and_the_gc_keeps_a_stopped_container_runnable()
    {
        if (!ContainerCli.Privileged)
        {
            Console.WriteLine("skipped: containers need root");
            return;
        }
        using var c = new ContainerCli();
        var imageId = (await c.Cli.RunOkAsync("images", "-q")).Stdout.Trim();
        Assert.Matches("^[0-9a-f]{12}$", imageId);
        var stopped = (await c.Cli.RunOkAsync("create", "--entrypoint", "/bin/fixture", ContainerCli.Image, "exit", "3")).Stdout.Trim();
        var running = (await c.Cli.RunOkAsync("run", "-d", ContainerCli.Image, "sleep", "60")).Stdout.Trim();

        var byName = await c.Cli.RunAsync("rmi", ContainerCli.Image);
        Assert.NotEqual(0, byName.ExitCode);
        Assert.Contains("conflict: unable to remove repository reference \"hivelet/fixture:latest\" (must force) - container ", byName.Stderr, StringComparison.Ordinal);
        Assert.Contains($"is using its referenced image {imageId}", byName.Stderr, StringComparison.Ordinal);
        var forcedId = await c.Cli.RunAsync("rmi", "-f", imageId);
        Assert.NotEqual(0, forcedId.ExitCode);
        Assert.Contains($"conflict: unable to delete {imageId} (cannot be forced) - image is being used by running container {running[..12]}", forcedId.Stderr, StringComparison.Ordinal);

        await c.Cli.RunOkAsync("rm", "-f", running);
        var byId = await c.Cli.RunAsync("rmi", imageId);
        Assert.Contains($"conflict: unable to delete {imageId} (must be forced) - image is being used by stopped container {stopped[..12]}", byId.Stderr, StringComparison.Ordinal);
        await c.Cli.RunOkAsync("image", "prune", "-af");
        Assert.Equal(imageId, (await c.Cli.RunOkAsync("images", "-q")).Stdout.Trim());

        // Forced: untagged and gone from `images`, but the GC keeps what the container needs.
        var forced = await c.Cli.RunOkAsync("rmi", "-f", ContainerCli.Image);
        Assert.Contains("Untagged: hivelet/fixture:latest", forced.Stdout, StringComparison.Ordinal);
        await c.Cli.RunOkAsync("image", "prune", "-af");
        Assert.Equal("", (await c.Cli.RunOkAsync("images", "-q")).Stdout.Trim());
        var start = await c.Cli.RunAsync("start", "-a", stopped);
        Assert.True(start.ExitCode == 3, start.ToString());

        // Without users everything goes, and a reloaded image is removable again.
        await c.Cli.RunOkAsync("rm", stopped);
        await c.Cli.RunOkAsync("image", "prune", "-af");
        Assert.Empty(Directory.GetFiles(Path.Combine(c.Cli.Root, "content", "blobs"), "*", SearchOption.AllDirectories));
        await c.Cli.RunOkAsync("load", "-i", Path.Combine(RepoPaths.FixturesDir, "hivelet-fixture.tar"));
        var again = await c.Cli.RunOkAsync("rmi", ContainerCli.Image);
        Assert.Contains("Deleted: sha256:", again.Stdout, StringComparison.Ordinal);
    }
}
