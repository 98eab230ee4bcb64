using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Interop;
using Hivelet.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace Hivelet.Runtime.Containers;

/// <summary>
/// The containers of one store root: BUNDLE = &lt;root&gt;/containers/&lt;id&gt;/ holding container.json
/// (this class, the managed side's record) and what the monitor writes (native/CONTRACT.md).
/// <para>
/// Creation happens under the store-wide lock <c>containers/.lock</c> in this order: mkdir BUNDLE,
/// the caller's preparation (snapshot), then container.json. A bundle without container.json is
/// therefore a create that was killed, and <see cref="Repair"/> (which takes the same lock) removes it.
/// </para>
/// </summary>
public sealed partial class ContainerStore
{
    public const string RecordFileName = "container.json";
    public const string LockFileName = "lock";

    /// <summary>ROOT/trash: trees a replayed `run --rm` moved aside for a background delete (CONTRACT.md).</summary>
    public const string TrashDirectoryName = "trash";
    private const string StoreLockName = ".lock";

    private readonly string _dir;
    private readonly ILogger _logger;

    public ContainerStore(StoreRoot root, ILogger? logger = null, string? runBase = null)
    {
        StoreRootPath = root.Root;
        _dir = root.ContainersDir;
        _logger = logger ?? NullLogger.Instance;
        StoreRoot.CreatePrivate(_dir);
        // Each bundle in a block group of its own, away from the inodes the last runs freed (see
        // SnapshotStore.HintTopDirectory); a hint only, refused by file systems other than ext2/3/4.
        Sys.TryAddInodeFlags(_dir, Sys.FS_TOPDIR_FL);
        RunBase = runBase ?? DefaultRunBase(root.Root);
    }

    public string StoreRootPath { get; }

    public string ContainersDir => _dir;

    /// <summary>Parent of the run dirs: /run/hivelet/&lt;hash of the root&gt; on a tmpfs /run, else null (run dir in the bundle).</summary>
    public string? RunBase { get; }

    public string BundleDir(string id) => Path.Combine(_dir, CheckId(id));

    public string RecordPath(string id) => Path.Combine(BundleDir(id), RecordFileName);

    /// <summary>Volatile files (health.json): a tmpfs when the host has one, so probes do not wear an SD card.</summary>
    public string RunDir(string id) => RunBase is null ? Path.Combine(BundleDir(id), "run") : Path.Combine(RunBase, CheckId(id));

    /// <summary>64 hex characters from a CSPRNG, never all digits (Docker avoids those: they read as numbers).</summary>
    public static string NewId()
    {
        while (true)
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            if (id.Any(c => c > '9'))
                return id;
        }
    }

    public static bool IsId(string s) => s.Length == 64 && s.All(char.IsAsciiHexDigitLower);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex NamePattern();

    /// <summary>Docker's rule for --name; a leading '/' (as inspect prints names) is accepted and dropped.</summary>
    public static string ValidateName(string name)
    {
        var n = name.StartsWith('/') ? name[1..] : name;
        if (!NamePattern().IsMatch(n))
            throw new InvalidInputException($"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        return n;
    }

    /// <summary>
    /// Creates a container under the store lock: picks the id and the name (validating and reserving
    /// <paramref name="requestedName"/> or generating one), makes the bundle, calls <paramref name="build"/>
    /// (id, name, bundle) for the record (it may prepare the snapshot) and writes it.
    /// </summary>
    public ContainerRecord Create(string? requestedName, Func<string, string, string, ContainerRecord> build)
    {
        var name = string.IsNullOrEmpty(requestedName) ? null : ValidateName(requestedName);
        using var storeLock = LockStore(TimeSpan.FromSeconds(30));
        var records = List();
        if (name is not null && records.FirstOrDefault(r => r.Name == name) is { } other)
        {
            throw new HiveletException(
                $"Conflict. The container name \"/{name}\" is already in use by container \"{other.Id}\". You have to remove (or rename) that container to be able to reuse that name.");
        }
        name ??= NameGenerator.GenerateUnique(n => records.Any(r => r.Name == n));
        string id;
        do
        {
            id = NewId();
        }
        while (Directory.Exists(BundleDir(id)));
        var bundle = BundleDir(id);
        Sys.MakeDirectory(bundle, 0x1c0);
        var record = build(id, name, bundle);
        record.Id = id;
        record.Name = name;
        Write(record);
        _logger.Created(id, name);
        return record;
    }

    /// <summary>Atomically replaces the container's record.</summary>
    public void Write(ContainerRecord record) => AtomicFile.WriteAllBytes(RecordPath(record.Id), Serialize(record));

    /// <summary>container.json's bytes for <paramref name="record"/>.</summary>
    public static byte[] Serialize(ContainerRecord record) =>
        JsonSerializer.SerializeToUtf8Bytes(record, ContainerJsonContext.Default.ContainerRecord);

    public ContainerRecord? TryRead(string id)
    {
        var path = RecordPath(id);
        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), ContainerJsonContext.Default.ContainerRecord);
            return record is not null && record.Id == id ? record : throw new HiveletException($"read container record {path}: it names another container");
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException e)
        {
            throw new HiveletException($"read container record {path}: {e.Message}");
        }
    }

    /// <summary>Every container with a readable record, newest first (as `ps`).</summary>
    public IReadOnlyList<ContainerRecord> List()
    {
        var result = new List<ContainerRecord>();
        foreach (var dir in Directory.EnumerateDirectories(_dir))
        {
            var id = Path.GetFileName(dir);
            if (!IsId(id))
                continue;
            try
            {
                if (TryRead(id) is { } record)
                    result.Add(record);
            }
            catch (HiveletException e)
            {
                _logger.UnreadableRecord(RecordPath(id), e.Message);
            }
        }
        result.Sort((a, b) => b.Created.CompareTo(a.Created));
        return result;
    }

    /// <summary>By full id, then by name, then by unique id prefix, as Docker resolves container references.</summary>
    public ContainerRecord Find(string query) => TryFind(query) ?? throw new NotFoundException($"No such container: {query}");

    public ContainerRecord? TryFind(string query)
    {
        if (string.IsNullOrEmpty(query))
            return null;
        var q = query.StartsWith('/') ? query[1..] : query;
        if (IsId(q) && TryRead(q) is { } exact)
            return exact;
        var all = List();
        if (all.FirstOrDefault(r => r.Name == q) is { } named)
            return named;
        if (!q.All(char.IsAsciiHexDigitLower))
            return null;
        var matches = all.Where(r => r.Id.StartsWith(q, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0],
            _ => throw new NotFoundException($"multiple containers found with provided prefix: {query}"),
        };
    }

    /// <summary>
    /// Takes the container's own lock so two CLIs do not start, stop or remove it at once. Waits up to
    /// <paramref name="wait"/>; a lock whose bundle was removed meanwhile is reported as "No such container".
    /// </summary>
    public ContainerLock Lock(string id, TimeSpan wait)
    {
        var path = Path.Combine(BundleDir(id), LockFileName);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            SafeFileHandle fd;
            try
            {
                fd = Sys.OpenLockFile(path);
            }
            catch (ErrnoException e) when (e.Errno == Errnos.ENOENT)
            {
                throw new NotFoundException($"No such container: {id}");
            }
            if (Sys.TryLockFile(fd, exclusive: true, path))
            {
                if (Sys.IsSameFile(fd, path) && File.Exists(RecordPath(id)))
                    return new ContainerLock(fd, path);
                fd.Dispose();
                if (!Directory.Exists(BundleDir(id)))
                    throw new NotFoundException($"No such container: {id}");
                continue;
            }
            fd.Dispose();
            if (DateTime.UtcNow >= deadline)
                throw new HiveletException($"container {id[..12]} is busy: another hivelet command is working on it");
            Thread.Sleep(50);
        }
    }

    private ContainerLock LockStore(TimeSpan wait) => TryLockStore(wait) ??
        throw new HiveletException($"containers in {_dir} are busy: another hivelet command is creating one");

    private ContainerLock? TryLockStore(TimeSpan wait)
    {
        var path = Path.Combine(_dir, StoreLockName);
        var fd = Sys.OpenLockFile(path);
        var deadline = DateTime.UtcNow + wait;
        while (!Sys.TryLockFile(fd, exclusive: true, path))
        {
            if (DateTime.UtcNow >= deadline)
            {
                fd.Dispose();
                return null;
            }
            Thread.Sleep(20);
        }
        return new ContainerLock(fd, path);
    }

    /// <summary>
    /// Deletes the bundle directory (the caller has stopped the container and removed its snapshot and
    /// cgroups) and the run dir. The record goes first, so a kill -9 halfway leaves a half-created bundle
    /// that <see cref="Repair"/> finishes.
    /// </summary>
    public void Delete(string id)
    {
        var bundle = BundleDir(id);
        TryDeleteFile(RecordPath(id));
        // rootfs is only ever mounted inside the container's mount namespace; a leftover host mount
        // (a crashed older build) must be detached, not recursed into.
        Sys.TryUnmount(Path.Combine(bundle, "rootfs"), 2 /* MNT_DETACH */);
        DeleteTree(RunDir(id));
        DeleteTree(bundle);
        _logger.Removed(id);
    }

    /// <summary>
    /// Cleans what killed commands left: temp files in bundles, and bundles without container.json (a
    /// create or rm that was interrupted): <paramref name="cleanupHalfCreated"/> removes their snapshot and
    /// cgroups, then the bundle goes. Then <paramref name="cleanupStale"/>, if given, gets the ids of every
    /// bundle left, to remove what belongs to containers that no longer exist (their cgroups). Skipped (false)
    /// when another process holds the store lock (it may be creating).
    /// </summary>
    public bool Repair(Action<string> cleanupHalfCreated, Action<IReadOnlySet<string>>? cleanupStale = null)
    {
        using var storeLock = TryLockStore(TimeSpan.Zero);
        if (storeLock is null)
        {
            _logger.RepairSkipped();
            return false;
        }
        foreach (var dir in Directory.EnumerateDirectories(_dir))
        {
            var id = Path.GetFileName(dir);
            if (!IsId(id))
                continue;
            int temps = AtomicFile.CleanTemps(dir);
            if (temps > 0)
                _logger.RepairRemovedTemps(temps, dir);
            // An empty record is one a replayed run (native/fastrun.c, no fsync) had written when the power
            // went: the managed side's records are fsynced before they get their name, so never empty.
            var record = new FileInfo(Path.Combine(dir, RecordFileName));
            if (record.Exists && record.Length > 0)
                continue;
            try
            {
                cleanupHalfCreated(id);
                Delete(id);
                _logger.RepairRemovedHalfCreated(id);
            }
            catch (Exception e) when (e is HiveletException or IOException or UnauthorizedAccessException)
            {
                _logger.CleanupFailed(id, HiveletException.Describe(e));
            }
        }
        cleanupStale?.Invoke(Directory.EnumerateDirectories(_dir).Select(d => Path.GetFileName(d)).Where(IsId).ToHashSet(StringComparer.Ordinal));
        return true;
    }

    /// <summary>
    /// Deletes what ROOT/trash holds: left there when the background delete of a replayed run was killed
    /// (the repair after it runs this). Nothing in it is mounted: the replay unmounts before moving.
    /// </summary>
    public int EmptyTrash()
    {
        var trash = Path.Combine(StoreRootPath, TrashDirectoryName);
        if (!Directory.Exists(trash))
            return 0;
        int removed = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(trash))
        {
            try
            {
                if (Directory.Exists(entry))
                    Directory.Delete(entry, recursive: true);
                else
                    File.Delete(entry);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.CleanupFailed(entry, e.Message);
            }
        }
        return removed;
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static void DeleteTree(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static string CheckId(string id) =>
        IsId(id) ? id : throw new InvalidInputException($"invalid container id \"{id}\"");

    /// <summary>/run/hivelet/&lt;12 hex of sha256(root)&gt; when /run is a tmpfs (two roots never share run dirs).</summary>
    public static string? DefaultRunBase(string storeRoot)
    {
        if (!IsTmpfs("/run"))
            return null;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(storeRoot)))[..12];
        return Path.Combine("/run/hivelet", hash);
    }

    /// <summary>True when <paramref name="mountPoint"/> is a tmpfs mount point (from /proc/self/mountinfo).</summary>
    internal static bool IsTmpfs(string mountPoint, string? mountinfo = null)
    {
        try
        {
            mountinfo ??= File.ReadAllText("/proc/self/mountinfo");
        }
        catch (IOException)
        {
            return false;
        }
        string? fsType = null;
        foreach (var line in mountinfo.Split('\n'))
        {
            var fields = line.Split(' ');
            int sep = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || sep < 0 || sep + 1 >= fields.Length)
                continue;
            if (fields[4] == mountPoint)
                fsType = fields[sep + 1]; // the last mount on a point wins
        }
        return fsType == "tmpfs";
    }
}

/// <summary>A held flock; disposing releases it.</summary>
public sealed class ContainerLock(SafeFileHandle fd, string path) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose() => fd.Dispose();
}
