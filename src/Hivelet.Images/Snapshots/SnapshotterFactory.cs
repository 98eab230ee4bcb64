using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Interop;
using Hivelet.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// Chooses the snapshot driver for a directory: overlayfs when a real test mount there works (the
/// kernel has overlay, we are privileged, and the file system can be an upper dir: whiteouts and
/// trusted xattrs), else copy, with the reason logged. The probe result is cached in
/// &lt;path&gt;/driver.json and redone only when the kernel release or the privilege changes.
/// </summary>
public static class SnapshotterFactory
{
    public const string CacheFile = "driver.json";

    public static ISnapshotter Create(string path, string? driverOverride, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        Directory.CreateDirectory(path);
        switch (driverOverride)
        {
            case null or "":
                break;
            case OverlaySnapshotter.DriverName or "overlay":
                SnapshotsLog.DriverSelected(logger, OverlaySnapshotter.DriverName, "chosen by configuration");
                return new OverlaySnapshotter(path, logger);
            case CopySnapshotter.DriverName:
                SnapshotsLog.DriverSelected(logger, CopySnapshotter.DriverName, "chosen by configuration");
                return new CopySnapshotter(path, logger);
            default:
                throw new InvalidInputException($"unknown snapshot driver \"{driverOverride}\": use \"{OverlaySnapshotter.DriverName}\" or \"{CopySnapshotter.DriverName}\"");
        }

        var cachePath = Path.Combine(path, CacheFile);
        var result = ReadCache(cachePath);
        if (result is null || result.Kernel != KernelRelease() || result.Privileged != Environment.IsPrivilegedProcess)
        {
            result = Probe(path);
            AtomicFile.WriteAllBytes(cachePath, JsonSerializer.SerializeToUtf8Bytes(result, SnapshotJsonContext.Default.DriverProbeResult));
        }
        if (result.Driver == OverlaySnapshotter.DriverName)
        {
            SnapshotsLog.DriverSelected(logger, result.Driver, result.Reason);
            return new OverlaySnapshotter(path, logger);
        }
        SnapshotsLog.OverlayUnavailable(logger, result.Reason);
        return new CopySnapshotter(path, logger);
    }

    /// <summary>Tests overlayfs in <paramref name="path"/> without touching the cache.</summary>
    public static DriverProbeResult Probe(string path)
    {
        var result = new DriverProbeResult { Kernel = KernelRelease(), Privileged = Environment.IsPrivilegedProcess };
        string? failure = null;
        if (!result.Privileged)
            failure = "overlay mounts need root (CAP_SYS_ADMIN)";
        else
            failure = TestMount(path);
        if (failure is null)
        {
            result.Driver = OverlaySnapshotter.DriverName;
            result.Reason = $"overlay test mount in `{path}` works";
        }
        else
        {
            bool listed = File.ReadLines("/proc/filesystems").Any(l => l.EndsWith("\toverlay", StringComparison.Ordinal));
            result.Driver = CopySnapshotter.DriverName;
            result.Reason = listed ? failure : "overlay is not in /proc/filesystems; " + failure;
        }
        return result;
    }

    private static string? TestMount(string path)
    {
        var store = new SnapshotStore(path, "probe", NullLogger.Instance);
        var dir = store.CreateTemp("probe");
        try
        {
            foreach (var sub in new[] { "lower", "upper", "work", "merged" })
                Sys.MakeDirectory(Path.Combine(dir, sub), 0755);
            File.WriteAllBytes(Path.Combine(dir, "lower", "file"), [1]);
            Directory.CreateDirectory(Path.Combine(dir, "lower", "dir"));
            using var worker = SnapshotWorker.Start("hivelet-probe", privateMountNamespace: true, dir);
            var merged = Path.Combine(dir, "merged");
            return worker.Invoke(() =>
            {
                try
                {
                    OverlayMount.Mount(merged, ["lower"], "upper", "work", $"test mount in `{path}`");
                    try
                    {
                        if (!File.Exists(Path.Combine(merged, "file")))
                            return "overlay test mount does not show the lower layer";
                        File.Delete(Path.Combine(merged, "file"));
                        Directory.Delete(Path.Combine(merged, "dir"));
                        Directory.CreateDirectory(Path.Combine(merged, "dir"));
                        if (!Sys.LStat(Path.Combine(dir, "upper", "file")).IsWhiteout)
                            return "overlay test mount did not record a whiteout in the upper dir";
                        if (Sys.LGetXattr(Path.Combine(dir, "upper", "dir"), "trusted.overlay.opaque") is null)
                            return "overlay test mount did not mark a recreated directory opaque";
                        return null;
                    }
                    finally
                    {
                        Sys.TryUnmount(merged, Sys.MNT_DETACH);
                    }
                }
                catch (HiveletException e)
                {
                    return $"overlay test mount failed: {HiveletException.Describe(e)}";
                }
            });
        }
        finally
        {
            TreeRemover.Delete(dir);
        }
    }

    private static DriverProbeResult? ReadCache(string cachePath)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(cachePath), SnapshotJsonContext.Default.DriverProbeResult);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    private static string KernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
