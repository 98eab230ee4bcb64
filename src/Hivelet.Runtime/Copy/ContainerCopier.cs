using System.IO.Pipes;
using Hivelet.Errors;
using Hivelet.Images.Layers;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Copy;

/// <summary>
/// `cp` between a container's root and the host. <c>containerRoot</c> is /proc/PID/root of a running
/// container (its mounts included) or the snapshot's merged directory of a stopped one; every path
/// inside it is resolved with <see cref="RootedPath"/>. The copy is a tar stream from the source walk
/// into the layer applier, which creates nothing outside the destination directory.
/// </summary>
public sealed class ContainerCopier(ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Copies container:<paramref name="source"/> to the host's <paramref name="destination"/>.</summary>
    public void CopyOut(string containerRoot, string source, string destination, bool archive, bool followLink)
    {
        using var root = Sys.OpenDirectory(containerRoot);
        using var hostRoot = Sys.OpenDirectory("/");
        var owner = archive ? ((uint, uint)?)null : (CurrentUid(), CurrentGid());
        Copy(root, source, hostRoot, Absolute(destination), owner, followLink, "in container");
    }

    /// <summary>Copies the host's <paramref name="source"/> to container:<paramref name="destination"/>.</summary>
    public void CopyIn(string containerRoot, string source, string destination, bool archive, bool followLink)
    {
        using var root = Sys.OpenDirectory(containerRoot);
        using var hostRoot = Sys.OpenDirectory("/");
        // Docker: files copied in belong to root unless -a keeps the host's uid/gid.
        var owner = archive ? ((uint, uint)?)null : (0u, 0u);
        Copy(hostRoot, Absolute(source), root, destination, owner, followLink, "on the host");
    }

    /// <summary>`cp CONTAINER:SRC -`: a tar of the source on <paramref name="output"/>.</summary>
    public void WriteArchive(string containerRoot, string source, Stream output, bool followLink)
    {
        using var root = Sys.OpenDirectory(containerRoot);
        var (parent, name, st) = ResolveSource(root, source, followLink, "in container");
        using (parent)
        using (var tar = new TarWriter(output, leaveOpen: true))
        {
            string rootName = CopyRules.IsContentsOnly(source) ? "" : CopyRules.BaseName(source) is "/" ? "" : CopyRules.BaseName(source);
            new TreeArchiver(tar, null).Add(parent, name, st, rootName);
            tar.Finish();
        }
    }

    /// <summary>`cp - CONTAINER:DEST`: extracts the tar on <paramref name="input"/> into the directory DEST.</summary>
    public void ExtractArchive(string containerRoot, Stream input, string destination)
    {
        using var root = Sys.OpenDirectory(containerRoot);
        var (parent, name, st) = RootedPath.Resolve(root, destination, followFinal: true);
        using (parent)
        {
            if (st.Mode == 0)
                throw new NotFoundException($"copy to {destination}: no such directory in container");
            if (!st.IsDirectory)
                throw new InvalidInputException($"copy to {destination}: the destination must be a directory");
            using var dir = name == "." ? Sys.OpenDirectoryAtSelf(parent) : OpenDir(parent, name);
            Apply(input, dir, destination);
        }
    }

    private void Copy(SafeDirectoryHandle srcRoot, string source, SafeDirectoryHandle dstRoot, string destination,
        (uint, uint)? owner, bool followLink, string where)
    {
        var (srcParent, srcName, srcStat) = ResolveSource(srcRoot, source, followLink, where);
        using (srcParent)
        {
            var (dstParent, dstName, dstStat) = RootedPath.Resolve(dstRoot, destination, followFinal: true);
            CopyPlan plan;
            using (dstParent)
            {
                var kind = dstStat.Mode == 0 ? DestinationKind.Missing
                    : dstStat.IsDirectory ? DestinationKind.Directory : DestinationKind.File;
                plan = CopyRules.Decide(source, srcStat.IsDirectory, destination, kind);
            }
            using var target = RootedPath.OpenDirectory(dstRoot, plan.Directory);
            // The tree is produced on one side of a pipe and applied from the other.
            using var server = new AnonymousPipeServerStream(PipeDirection.Out);
            using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
            var producer = Task.Run(() =>
            {
                try
                {
                    using var tar = new TarWriter(server, leaveOpen: true);
                    new TreeArchiver(tar, owner).Add(srcParent, srcName, srcStat, plan.RootName);
                    tar.Finish();
                }
                finally
                {
                    server.Dispose();
                }
            });
            try
            {
                Apply(client, target, destination);
            }
            catch
            {
                client.Dispose();
                try
                {
                    producer.Wait();
                }
                catch (AggregateException)
                {
                    // The consumer's error is the one to report.
                }
                throw;
            }
            producer.GetAwaiter().GetResult();
        }
    }

    private void Apply(Stream tar, SafeDirectoryHandle dir, string destination)
    {
        // The applier opens its root by path: /proc/self/fd/N is the directory already resolved in-root.
        var applier = new LayerApplier(_logger as ILogger<LayerApplier>);
        applier.Apply(tar, "/proc/self/fd/" + dir.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new LayerApplyOptions { LayerName = "copy to " + destination, PreserveOwnership = Environment.IsPrivilegedProcess },
            CancellationToken.None);
    }

    private static (SafeDirectoryHandle, string, FileStatus) ResolveSource(SafeDirectoryHandle root, string source, bool followLink, string where)
    {
        // A trailing "/" or "/." means the directory itself, never a link to it.
        bool follow = followLink || source.EndsWith('/') || CopyRules.IsContentsOnly(source);
        var (parent, name, st) = RootedPath.Resolve(root, source, follow);
        if (st.Mode == 0)
        {
            parent.Dispose();
            throw new NotFoundException($"Could not find the file {source} {where}");
        }
        return (parent, name, st);
    }

    private static SafeDirectoryHandle OpenDir(SafeDirectoryHandle parent, string name)
    {
        int err = Sys.TryOpenDirectoryAt(parent, name, out var dir);
        if (err != 0)
            throw new ErrnoException("open", name, err);
        return dir!;
    }

    private static string Absolute(string path) => Path.IsPathRooted(path)
        ? path
        : Path.Combine(Environment.CurrentDirectory, path) + (path.EndsWith('/') ? "/" : "");

    private static uint CurrentUid() => ProcStatusId("Uid:");

    private static uint CurrentGid() => ProcStatusId("Gid:");

    private static uint ProcStatusId(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal))
                continue;
            var f = line[key.Length..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && uint.TryParse(f[1], System.Globalization.CultureInfo.InvariantCulture, out var id))
                return id;
        }
        return 0;
    }
}
