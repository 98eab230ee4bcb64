using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;

namespace Hivelet.Cli.Commands.ContainerTools;

/// <summary>The container store, live state and cgroups the tool verbs read, built once per invocation.</summary>
internal sealed class ToolServices(HiveletServices services)
{
    private LiveState? _live;

    public HiveletServices Services => services;

    public ContainerStore Store => services.Containers;

    public ICgroupManager Cgroups => services.Cgroups;

    public LiveState Live => _live ??= services.Live;

    /// <summary>The running (or restarting) container's status, or Docker's "is not running" error (exit 1).</summary>
    public ContainerStatus RequireRunning(ContainerRecord record)
    {
        var status = Live.ReadStatus(record.Id);
        if (status is not { IsExited: false, Pid: > 0 })
            throw new ContainerNotRunningException(record.Id);
        return status;
    }

    public ImageConfig LoadImageConfig(ContainerRecord record)
    {
        if (!Digest.TryParse(record.Image, out var digest, out var error))
            throw new HiveletException($"container {record.Name}: image digest {record.Image}: {error}");
        return ManifestParser.ParseConfig(StoredImage.ReadAll(services.Content, digest, ManifestParser.MaxConfigSize));
    }
}

/// <summary>Docker's "Error response from daemon: container ID is not running", which its CLI exits 1 for.</summary>
internal sealed class ContainerNotRunningException(string id) : HiveletException($"container {id} is not running")
{
    public override int ExitCode => 1;
}
