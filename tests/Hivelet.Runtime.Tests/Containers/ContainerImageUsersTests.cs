using Hivelet.Images.Oci;
using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Tests.Containers;

public sealed class ContainerImageUsersTests
{
    private static readonly Digest Image = Digest.ComputeSha256("config"u8.ToArray());
    private static readonly Digest Top = Digest.ComputeSha256("chain"u8.ToArray());

    [Fact]
    public void EveryContainerIsAUserOfItsImageRunningOnlyWhileItsMonitorLives()
    {
        using var t = new TempContainers();
        var created = t.Store.Create("created", (id, n, b) => new ContainerRecord { Image = Image.ToString(), TopChainId = Top.ToString() });
        var running = t.Store.Create("running", (id, n, b) => new ContainerRecord { Image = Image.ToString() });
        new ContainerStatus { State = "running", MonitorPid = Environment.ProcessId, Pid = Environment.ProcessId }
            .Write(t.Store.BundleDir(running.Id));
        var dead = t.Store.Create("dead", (id, n, b) => new ContainerRecord { Image = Image.ToString() });
        new ContainerStatus { State = "running", MonitorPid = 1 << 30, Pid = 1 << 30 }.Write(t.Store.BundleDir(dead.Id));
        var live = new LiveState(t.Store, cgroups: null);

        var users = new ContainerImageUsers(t.Store, live).List().ToDictionary(u => u.ContainerId);

        Assert.Equal(3, users.Count);
        Assert.All(users.Values, u => Assert.Equal(Image, u.ImageId));
        Assert.Equal((Top, false), (users[created.Id].TopChainId!.Value, users[created.Id].Running));
        Assert.True(users[running.Id].Running);
        Assert.Null(users[running.Id].TopChainId);
        Assert.False(users[dead.Id].Running);
        Assert.Equal(created.Id[..12], users[created.Id].ShortId);
    }
}
