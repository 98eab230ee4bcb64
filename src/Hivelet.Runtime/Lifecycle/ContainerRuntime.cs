using System.Net.Sockets;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Snapshots;
using Hivelet.Interop;
using Hivelet.IO;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Spec;
using Hivelet.Runtime.Volumes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Lifecycle;

/// <summary>An image resolved for `create`: its config, config digest and the chain ID of its top layer.</summary>
public sealed record ResolvedImage(string Reference, ImageConfig Config, string ConfigDigest, Digest? TopChainId);

/// <summary>A started container: the CLI's end of the start socket (attached runs read frames from it).</summary>
public sealed class StartedContainer(ContainerRecord record, int monitorPid, int pid, Socket socket) : IDisposable
{
    public ContainerRecord Record { get; } = record;
    public int MonitorPid { get; } = monitorPid;
    public int Pid { get; } = pid;
    public Socket Socket { get; } = socket;

    /// <summary>The group(s) made for this start, with the steps that made them.</summary>
    public ICgroup? Cgroup { get; init; }

    public void Dispose() => Socket.Dispose();
}

/// <summary>
/// create, start, stop, kill, restart, rm and wait over the store, the snapshots, the cgroups and a
/// monitor per container. Every state change takes the container's lock, so two CLIs never start,
/// stop or remove the same container at once; the monitor alone writes BUNDLE/status.
/// </summary>
public sealed class ContainerRuntime(
    ContainerStore store,
    LiveState live,
    ICgroupManager cgroups,
    ISnapshotter snapshots,
    IContentStore content,
    VolumeStore volumes,
    string exe,
    ILogger? logger = null)
{
    public const string StopFileName = "stop";
    public const string MonitorLogName = "monitor.log";
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(60);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public ContainerStore Store => store;
    public LiveState Live => live;
    public ISnapshotter Snapshots => snapshots;

    /// <summary>Docker's default stop grace.</summary>
    public const int DefaultStopTimeout = 10;

    public ContainerRecord Create(RunOptions options, ResolvedImage image) =>
        store.Create(options.Name, (id, name, bundle) =>
        {
            var record = ContainerFactory.Create(options, image.Config, image.ConfigDigest, image.TopChainId?.ToString(), id, name, volumes);
            record.ImageRef = image.Reference;
            record.Driver = snapshots.Driver;
            // The snapshot is made now, as Docker's create makes the RW layer; start mounts it again.
            using var snap = snapshots.PrepareContainer(id, image.TopChainId, disposable: options.AutoRemove);
            return record;
        });

    public ImageConfig LoadImageConfig(ContainerRecord record)
    {
        if (!Digest.TryParse(record.Image, out var digest, out var error))
            throw new HiveletException($"container {record.Name}: image digest {record.Image}: {error}");
        try
        {
            return ManifestParser.ParseConfig(StoredImage.ReadAll(content, digest, ManifestParser.MaxConfigSize));
        }
        catch (NotFoundException)
        {
            throw new NotFoundException($"container {record.Name}: its image {record.ImageRef} ({digest}) is no longer in the store");
        }
    }

    /// <summary>
    /// Starts the container's monitor and waits for STARTED or ERROR. With <paramref name="attach"/> the
    /// returned socket carries its output until EXIT; otherwise it is only good for the caller to close.
    /// A running container is returned as is (null): Docker's start is idempotent.
    /// </summary>
    public async Task<StartedContainer?> StartAsync(ContainerRecord record, bool attach, CancellationToken ct)
    {
        using (var held = store.Lock(record.Id, LockWait))
        {
            var state = live.Read(record);
            if (state.Running)
                return null;
            var bundle = store.BundleDir(record.Id);
            DeleteIfExists(Path.Combine(bundle, StopFileName));
            var image = LoadImageConfig(record);
            var cgroup = cgroups.Create(record.Id, ContainerResources.From(record.HostConfig));
            var runDir = store.RunDir(record.Id);
            Directory.CreateDirectory(runDir);
            DeleteIfExists(Path.Combine(runDir, HealthState.FileName));
            string rootfs;
            using (var snap = snapshots.PrepareContainer(record.Id, ParseChain(record.TopChainId)))
                rootfs = snap.Path;
            ForeignBinaryCheck.Check(record.Name, record.Architecture, rootfs, record.Path, record.Config.Env);
            new BundleWriter(_logger).Write(new BundleRequest(record, image, bundle, rootfs, cgroup, cgroups.Layout,
                exe, store.StoreRootPath, runDir, attach));

            var (local, remote) = Sys.SocketPair();
            int monitorPid;
            try
            {
                using var monitorLog = File.Open(Path.Combine(bundle, MonitorLogName), new FileStreamOptions
                {
                    Mode = FileMode.Append,
                    Access = FileAccess.Write,
                    Share = FileShare.ReadWrite,
                });
                using (remote)
                    monitorPid = Sys.SpawnMonitor(exe, bundle, remote, monitorLog.SafeFileHandle);
            }
            catch
            {
                local.Dispose();
                throw;
            }
            var stream = new NetworkStream(local, ownsSocket: false);
            Frame? first;
            try
            {
                first = await StartFrames.ReadAsync(stream, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                first = null;
            }
            if (first is { Type: FrameType.Started } started)
            {
                _logger.Started(record.Id, monitorPid, started.StartedPid);
                record.StartCount++;
                store.Write(record);
                return new StartedContainer(record, monitorPid, started.StartedPid, local) { Cgroup = cgroup };
            }
            local.Dispose();
            if (first is { Type: FrameType.Error } failed)
            {
                var (code, message) = failed.ErrorStatus;
                throw new ContainerStartException(code, message);
            }
            throw new ContainerStartException(ExitCodes.HiveletError,
                $"the monitor exited before the container started: {LastLine(Path.Combine(bundle, MonitorLogName))}");
        }
    }

    /// <summary>
    /// Docker's stop: the stop signal, up to <paramref name="timeoutSeconds"/> (null: the container's
    /// StopTimeout or 10 s) for it to exit, then SIGKILL to everything in its cgroup. Never restarted after.
    /// </summary>
    public async Task StopAsync(ContainerRecord record, int? timeoutSeconds, CancellationToken ct)
    {
        using var held = store.Lock(record.Id, LockWait);
        await StopLockedAsync(record, timeoutSeconds, ct).ConfigureAwait(false);
    }

    private async Task StopLockedAsync(ContainerRecord record, int? timeoutSeconds, CancellationToken ct)
    {
        RequestStop(record.Id);
        var status = live.ReadStatus(record.Id);
        if (status is null || status.IsExited)
            return;
        int timeout = timeoutSeconds ?? record.Config.StopTimeout ?? DefaultStopTimeout;
        int signal = string.IsNullOrEmpty(record.Config.StopSignal) ? Signals.SIGTERM : Signals.Parse(record.Config.StopSignal);
        if (status.Pid > 0 && timeout != 0)
            SafeKill(status, signal);
        if (timeout < 0 || await WaitExitedAsync(record.Id, TimeSpan.FromSeconds(timeout), ct).ConfigureAwait(false))
            return;
        _logger.StopTimedOut(record.Id, timeout, signal);
        await KillAllAsync(record.Id, ct).ConfigureAwait(false);
    }

    /// <summary>Docker's kill: a signal (default SIGKILL) to the container's pid 1; it must be running.</summary>
    public async Task KillAsync(ContainerRecord record, int signal, CancellationToken ct)
    {
        using var held = store.Lock(record.Id, LockWait);
        var status = live.ReadStatus(record.Id);
        if (status is null || status.IsExited || status.State == "restarting" && signal != Signals.SIGKILL)
            throw new ContainerStateException($"Cannot kill container: {record.Id[..12]}: container {record.Id} is not running");
        if (signal == Signals.SIGKILL)
        {
            RequestStop(record.Id);
            await KillAllAsync(record.Id, ct).ConfigureAwait(false);
            return;
        }
        if (status.Pid > 0)
            SafeKill(status, signal);
    }

    public async Task RestartAsync(ContainerRecord record, int? timeoutSeconds, CancellationToken ct)
    {
        await StopAsync(record, timeoutSeconds, ct).ConfigureAwait(false);
        using var started = await StartAsync(record, attach: false, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Docker's rm: refuses a running container unless <paramref name="force"/> (then kills it), then
    /// removes its cgroups, snapshot, run dir and bundle (and anonymous volumes with <paramref name="removeVolumes"/>).
    /// </summary>
    public Task RemoveAsync(ContainerRecord record, bool force, bool removeVolumes, CancellationToken ct) =>
        RemoveAsync(record, force, removeVolumes, waitingMonitorPid: 0, ct);

    /// <summary>
    /// An attached `run --rm` after the EXIT frame: removes the container in this process, which has the
    /// store open already, then sends REMOVED so the monitor exits without starting `hivelet rm -f`. The
    /// monitor waits for that frame, so it is not waited for here. Killed at any point before REMOVED,
    /// this CLI leaves the removal to the monitor (its socket reads EOF); both take the container's lock.
    /// </summary>
    public async Task RemoveAfterExitAsync(StartedContainer started, CancellationToken ct)
    {
        try
        {
            await RemoveAsync(started.Record, force: true, removeVolumes: true, started.MonitorPid, ct).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            // Another command's `rm -f` won the race: removed all the same.
        }
        try
        {
            started.Socket.Send(StartFrames.Encode(FrameType.Removed, []));
        }
        catch (SocketException)
        {
            // The monitor is gone (killed, or it gave up waiting): nothing is left for it to do.
        }
    }

    private async Task RemoveAsync(ContainerRecord record, bool force, bool removeVolumes, int waitingMonitorPid, CancellationToken ct)
    {
        using var held = store.Lock(record.Id, LockWait);
        var status = live.ReadStatus(record.Id);
        if (status is { IsExited: false })
        {
            if (!force)
            {
                throw new ContainerStateException(
                    $"cannot remove container \"/{record.Name}\": container is {(status.State == "restarting" ? "restarting" : "running")}: stop the container before removing or force remove");
            }
            RequestStop(record.Id);
            await KillAllAsync(record.Id, ct).ConfigureAwait(false);
        }
        if (status is null || status.MonitorPid != waitingMonitorPid)
            await EnsureMonitorGoneAsync(record.Id, ct).ConfigureAwait(false);
        var cgroup = cgroups.Open(record.Id);
        if (cgroup is not null)
        {
            // An empty group gains no process by a fork, only by a start (which needs this lock) or an
            // exec (which needs a running container; this one has exited): KillAll's freeze and thaw
            // (tens of ms on v1) are skipped when nothing is left.
            if (cgroup.ReadPids().Count > 0)
                cgroup.KillAll();
            cgroup.Remove();
        }
        snapshots.RemoveContainer(record.Id);
        store.Delete(record.Id);
        if (!removeVolumes)
            return;
        // After the record is gone, so the volume is no longer "in use" by this container.
        foreach (var m in record.Mounts.Where(m => m is { Type: "volume", Anonymous: true, Name: not null }))
        {
            try
            {
                volumes.Remove(m.Name!, force: true, VolumeUsers);
            }
            catch (HiveletException e)
            {
                _logger.RemoveStepFailed(record.Id, HiveletException.Describe(e));
            }
        }
    }

    /// <summary>
    /// After a reboot, as Docker's daemon does at its start: every `--rm` container that is not running
    /// (after a reboot, none is; a root first seen by this version may have live ones, which stay) is
    /// removed. A failure is logged and the next one tried.
    /// </summary>
    public void RemoveAutoRemoveContainers()
    {
        foreach (var record in store.List().Where(r => r.HostConfig.AutoRemove))
        {
            try
            {
                if (live.Read(record).Running)
                    continue;
                RemoveAsync(record, force: true, removeVolumes: true, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (HiveletException e)
            {
                _logger.RemoveStepFailed(record.Id, HiveletException.Describe(e));
            }
        }
    }

    /// <summary>Ids of the containers whose mounts name volume <paramref name="name"/>.</summary>
    public IReadOnlyList<string> VolumeUsers(string name) =>
        store.List().Where(r => r.Mounts.Any(m => m.Type == "volume" && m.Name == name)).Select(r => r.Id).ToList();

    /// <summary>Blocks until the container has exited (and will not restart); returns its exit code.</summary>
    public async Task<int> WaitAsync(ContainerRecord record, CancellationToken ct)
    {
        while (true)
        {
            var status = live.ReadStatus(record.Id);
            if (status is { IsExited: true })
                return status.ExitCode;
            if (status is null && !File.Exists(store.RecordPath(record.Id)))
                throw new NotFoundException($"No such container: {record.Id}");
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Writes BUNDLE/stop: from now on the monitor does not restart the container.</summary>
    private void RequestStop(string id)
    {
        var path = Path.Combine(store.BundleDir(id), StopFileName);
        if (!File.Exists(path))
            AtomicFile.WriteAllText(path, "");
    }

    /// <summary>Signals the container's pid 1 unless that pid now belongs to someone else.</summary>
    private void SafeKill(ContainerStatus status, int signal)
    {
        if (status.PidStart != 0 && ProcessInfo.StartTime(status.Pid) != status.PidStart)
            return;
        Sys.Kill(status.Pid, signal);
    }

    private async Task KillAllAsync(string id, CancellationToken ct)
    {
        cgroups.Open(id)?.KillAll();
        if (!await WaitExitedAsync(id, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false))
            await EnsureMonitorGoneAsync(id, ct).ConfigureAwait(false);
    }

    /// <summary>Polls BUNDLE/status until exited (the monitor's restart backoff also sees the stop file).</summary>
    private async Task<bool> WaitExitedAsync(string id, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (live.ReadStatus(id) is null or { IsExited: true })
                return true;
            if (DateTime.UtcNow >= deadline)
                return false;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The monitor exits right after recording the exit; one that hangs is killed (then reconciled).</summary>
    private async Task EnsureMonitorGoneAsync(string id, CancellationToken ct)
    {
        var status = ContainerStatus.Read(store.BundleDir(id));
        // With --rm the monitor execs `hivelet rm -f` in its own process: that is us, not a monitor to wait for.
        if (status is null || status.MonitorPid <= 0 || status.MonitorPid == Environment.ProcessId)
            return;
        bool Alive() => status.MonitorStart != 0 && ProcessInfo.StartTime(status.MonitorPid) == status.MonitorStart;
        for (int i = 0; i < 100 && Alive(); i++)
            await Task.Delay(50, ct).ConfigureAwait(false);
        if (!Alive())
            return;
        _logger.KillingMonitor(id, status.MonitorPid);
        Sys.Kill(status.MonitorPid, Signals.SIGKILL);
        for (int i = 0; i < 40 && Alive(); i++)
            await Task.Delay(50, ct).ConfigureAwait(false);
        live.ReadStatus(id);
    }

    private static Digest? ParseChain(string? chainId) =>
        chainId is null ? null : Digest.TryParse(chainId, out var d, out _) ? d : throw new HiveletException($"invalid chain id {chainId}");

    private static void DeleteIfExists(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static string LastLine(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return lines.LastOrDefault(l => l.Trim().Length > 0) ?? "no diagnostics (see " + path + ")";
        }
        catch (IOException)
        {
            return "no diagnostics";
        }
    }
}
