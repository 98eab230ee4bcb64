using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Hivelet.IO;
using Microsoft.Extensions.Logging;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// The on-disk layout shared by both drivers:
/// <code>
/// &lt;root&gt;/sha256-&lt;hex&gt;/{fs/, meta.json}   committed layers (appear only by rename)
/// &lt;root&gt;/tmp/&lt;pid&gt;-&lt;random&gt;/            unpacks in progress, removals, probes
/// &lt;root&gt;/containers/&lt;id&gt;/{fs/, meta.json, ...} container snapshots (complete once meta.json exists)
/// &lt;root&gt;/l/&lt;short&gt; -> ../sha256-&lt;hex&gt;/fs    short names for overlay lowerdir options
/// </code>
/// </summary>
internal sealed partial class SnapshotStore
{
    public const string MetaFile = "meta.json";
    public const string FsDir = "fs";

    // C# has no octal literals: 0700, 0755 and 0600.
    public const uint PrivateMode = 0x1c0;
    public const uint PublicMode = 0x1ed;
    public const uint OwnerOnlyMode = 0x180;

    // In-process users of committed layers (active snapshots and their chains): Remove refuses them.
    private readonly ConcurrentDictionary<Digest, int> _inUse = new();
    private readonly ILogger _logger;

    public SnapshotStore(string root, string driver, ILogger logger)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        Driver = driver;
        _logger = logger;
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(TempRoot);
        Directory.CreateDirectory(ContainersRoot);
        HintTopDirectory(TempRoot);
        HintTopDirectory(ContainersRoot);
    }

    /// <summary>
    /// Marks tmp/, where every layer is unpacked into a directory of its own (and containers/, where every
    /// container gets its layer, made and deleted on each `run --rm`), as a top of directory
    /// hierarchies (FS_TOPDIR_FL), so that ext4's Orlov allocator gives each new layer directory the
    /// block group with the fewest directories, as it does in a file system's root, instead of its
    /// parent's group; the layer's files follow their directory. Without a journal, ext4 passes over
    /// inodes freed in the last 5 s (5 min while their inode table block is unwritten), reading each
    /// one (fs/ext4/ialloc.c, recently_deleted), so every file created next to a large deletion (an
    /// rmi, a prune, a removed container) paid a scan of thousands of freed inodes: profiled at more
    /// than half of a pull's CPU and 3-4x its time. A hint only: other file systems refuse the flag.
    /// </summary>
    private void HintTopDirectory(string directory)
    {
        int errno = Sys.TryAddInodeFlags(directory, Sys.FS_TOPDIR_FL);
        if (errno != 0)
            SnapshotsLog.NoTopDirectoryHint(_logger, directory, Errnos.Describe(errno));
    }

    public string Root { get; }
    public string Driver { get; }
    public string TempRoot => Path.Combine(Root, "tmp");
    public string ContainersRoot => Path.Combine(Root, "containers");
    public string LinksRoot => Path.Combine(Root, "l");

    public static string DirectoryName(Digest chainId) => $"{chainId.Algorithm}-{chainId.Encoded}";

    public string PathOf(Digest chainId) => Path.Combine(Root, DirectoryName(chainId));

    public string FsOf(Digest chainId) => Path.Combine(PathOf(chainId), FsDir);

    public bool Exists(Digest chainId) => File.Exists(Path.Combine(PathOf(chainId), MetaFile));

    public IEnumerable<Digest> List()
    {
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(dir);
            int dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && Digest.TryParse(string.Concat(name.AsSpan(0, dash), ":", name.AsSpan(dash + 1)), out var d) &&
                File.Exists(Path.Combine(dir, MetaFile)))
                yield return d;
        }
    }

    public SnapshotMetadata ReadMeta(Digest chainId)
    {
        var file = Path.Combine(PathOf(chainId), MetaFile);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(file), SnapshotJsonContext.Default.SnapshotMetadata)
                ?? throw new InvalidInputException($"snapshot {chainId}: empty {MetaFile}");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NotFoundException($"snapshot {chainId} not found");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"snapshot {chainId}: corrupt {MetaFile}: {e.Message}");
        }
    }

    /// <summary>The committed layers from <paramref name="top"/> down to the base, nearest first.</summary>
    public IReadOnlyList<(Digest ChainId, SnapshotMetadata Meta)> Chain(Digest top)
    {
        var chain = new List<(Digest, SnapshotMetadata)>();
        Digest? next = top;
        while (next is { } current)
        {
            var meta = ReadMeta(current);
            chain.Add((current, meta));
            if (chain.Count > 1000)
                throw new InvalidInputException($"snapshot {top}: parent chain loops or exceeds 1000 layers");
            next = meta.Parent is null ? null : Digest.Parse(meta.Parent);
        }
        return chain;
    }

    /// <summary>A fresh, empty private directory under tmp/ named after this process.</summary>
    public string CreateTemp(string kind)
    {
        var dir = Path.Combine(TempRoot, $"{Environment.ProcessId}-{kind}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        Sys.MakeDirectory(dir, PrivateMode);
        return dir;
    }

    /// <summary>
    /// Makes <paramref name="tempDir"/> the committed snapshot <paramref name="chainId"/>: metadata,
    /// syncfs, then one rename (the commit point). Returns false, leaving the temp dir to the caller,
    /// when another unpack committed the same chain ID first.
    /// </summary>
    public bool Publish(string tempDir, Digest chainId, SnapshotMetadata meta)
    {
        AtomicFile.WriteAllBytes(Path.Combine(tempDir, MetaFile),
            JsonSerializer.SerializeToUtf8Bytes(meta, SnapshotJsonContext.Default.SnapshotMetadata));
        // One syncfs covers every file the layer wrote; cheaper than fsync per file.
        Sys.SyncFileSystem(tempDir);
        var target = PathOf(chainId);
        int errno = Sys.TryRename(tempDir, target, Sys.RENAME_NOREPLACE);
        if (errno == Errnos.EINVAL)
            errno = Sys.TryRename(tempDir, target, 0);
        if (errno is Errnos.EEXIST or Errnos.ENOTEMPTY)
            return false;
        if (errno != 0)
            throw new ErrnoException("rename", $"{tempDir}` to `{target}", errno);
        Sys.FsyncDirectory(Root);
        return true;
    }

    /// <summary>Un-commits a layer by renaming it into tmp/ (atomic), then deletes it.</summary>
    public void Unpublish(Digest chainId)
    {
        var doomed = Path.Combine(TempRoot, $"{Environment.ProcessId}-rm-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        int errno = Sys.TryRename(PathOf(chainId), doomed, 0);
        if (errno != 0)
            throw new ErrnoException("rename", $"{PathOf(chainId)}` to `{doomed}", errno);
        Sys.FsyncDirectory(Root);
        TreeRemover.Delete(doomed);
    }

    /// <summary>Throws when <paramref name="chainId"/> is a parent, a container's top or in use by an unpack.</summary>
    public void EnsureRemovable(Digest chainId)
    {
        if (_inUse.TryGetValue(chainId, out int users) && users > 0)
            throw new SnapshotInUseException($"remove snapshot {chainId}: in use by an unpack in progress");
        foreach (var other in List())
        {
            if (other != chainId && ReadMeta(other).Parent == chainId.ToString())
                throw new SnapshotInUseException($"remove snapshot {chainId}: it is the parent of {other}; remove children first");
        }
        foreach (var (id, meta) in ListContainers())
        {
            if (meta.Top == chainId.ToString())
                throw new SnapshotInUseException($"remove snapshot {chainId}: container {id} is built on it");
        }
    }

    public void Acquire(IEnumerable<Digest> chain)
    {
        foreach (var d in chain)
            _inUse.AddOrUpdate(d, 1, (_, n) => n + 1);
    }

    public void Release(IEnumerable<Digest> chain)
    {
        foreach (var d in chain)
            _inUse.AddOrUpdate(d, 0, (_, n) => Math.Max(0, n - 1));
    }

    public bool IsInUse(Digest chainId) => _inUse.TryGetValue(chainId, out int n) && n > 0;

    // Container IDs become directory names: Docker's alphabet only, no dots-only names, no slashes.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex ContainerIdPattern();

    public static void ValidateContainerId(string containerId)
    {
        if (!ContainerIdPattern().IsMatch(containerId))
            throw new InvalidInputException($"invalid container id \"{containerId}\": use 1-128 of [A-Za-z0-9_.-], starting with a letter or digit");
    }

    public string ContainerPath(string containerId) => Path.Combine(ContainersRoot, containerId);

    public ContainerSnapshotMetadata? ReadContainerMeta(string containerId)
    {
        var file = Path.Combine(ContainerPath(containerId), MetaFile);
        if (!File.Exists(file))
            return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(file), SnapshotJsonContext.Default.ContainerSnapshotMetadata);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"container snapshot {containerId}: corrupt {MetaFile}: {e.Message}");
        }
    }

    public void WriteContainerMeta(string containerDir, ContainerSnapshotMetadata meta) =>
        AtomicFile.WriteAllBytes(Path.Combine(containerDir, MetaFile),
            JsonSerializer.SerializeToUtf8Bytes(meta, SnapshotJsonContext.Default.ContainerSnapshotMetadata));

    public IEnumerable<(string Id, ContainerSnapshotMetadata Meta)> ListContainers()
    {
        foreach (var dir in Directory.EnumerateDirectories(ContainersRoot))
        {
            var id = Path.GetFileName(dir);
            if (ReadContainerMeta(id) is { } meta)
                yield return (id, meta);
        }
    }

    /// <summary>
    /// Detaches any mount under tmp/ (left by an older build or a crash), then deletes every temp
    /// entry that no live unpack of this process owns. Entries of another live hivelet process
    /// (its pid prefix) are left alone.
    /// </summary>
    public void RepairTemps(Func<string, bool> isActive)
    {
        foreach (var mount in MountTable.MountPointsUnder(TempRoot))
        {
            if (isActive(mount))
                continue;
            if (Sys.TryUnmount(mount, Sys.MNT_DETACH) == 0)
                SnapshotsLog.RepairDetachedMount(_logger, mount);
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(TempRoot))
        {
            if (isActive(entry) || OwnedByOtherLiveProcess(Path.GetFileName(entry)))
                continue;
            TreeRemover.Delete(entry);
            SnapshotsLog.RepairRemovedTemp(_logger, entry);
        }
    }

    private static bool OwnedByOtherLiveProcess(string name)
    {
        int dash = name.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && int.TryParse(name.AsSpan(0, dash), out int pid) && pid != Environment.ProcessId &&
               Directory.Exists($"/proc/{pid}") && IsHivelet(pid);
    }

    // A recycled pid after a reboot must not protect garbage: only a process of the same executable counts.
    private static bool IsHivelet(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim() == File.ReadAllText("/proc/self/comm").Trim();
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Removes container directories without meta.json (a PrepareContainer that was killed).</summary>
    public void RepairContainers()
    {
        foreach (var dir in Directory.EnumerateDirectories(ContainersRoot))
        {
            AtomicFile.CleanTemps(dir);
            if (File.Exists(Path.Combine(dir, MetaFile)))
                continue;
            foreach (var mount in MountTable.MountPointsUnder(dir))
                Sys.TryUnmount(mount, Sys.MNT_DETACH);
            TreeRemover.Delete(dir);
            SnapshotsLog.RepairRemovedContainer(_logger, Path.GetFileName(dir));
        }
    }

    public void RepairCommitted()
    {
        foreach (var d in List())
            AtomicFile.CleanTemps(PathOf(d));
    }
}
