using System.Globalization;
using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Snapshots;
using Hivelet.Interop;
using Hivelet.IO;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Spec;
using Microsoft.Extensions.Logging;

namespace Hivelet.Runtime.Lifecycle;

/// <summary>What a started container was made of, for <see cref="RunTemplates.Write"/>.</summary>
public sealed record RunTemplateSource(
    StartedContainer Started,
    ContainerStore Store,
    ISnapshotter Snapshots,
    string Exe,
    IReadOnlyList<string> Arguments,
    IReadOnlyList<string> Dependencies,
    Func<string, string?> Environment,
    bool NameGiven,
    IReadOnlyDictionary<string, string> SignaturesBefore);

/// <summary>
/// Run templates (native/CONTRACT.md "Run templates"): once an attached `run` has started its container,
/// every step that made it (bundle directory, snapshot, cgroups, bundle files, record, and the removal
/// steps) is written down for that command line under ROOT/run-templates, with the files, directories
/// and environment it depended on. The next `run` with the same command line is then done by
/// native/fastrun.c, which replaces the container id, name and creation time and repeats the steps
/// without starting the .NET runtime; it declines, and this path runs, whenever a dependency changed.
/// </summary>
public static class RunTemplates
{
    public const string DirectoryName = "run-templates";
    public const int Version = 1;

    /// <summary>Templates kept per root; the least recently written go first.</summary>
    public const int MaxTemplates = 64;

    /// <summary>The environment variables a `run` reads besides its arguments; part of the key.</summary>
    public static readonly IReadOnlyList<string> KeyEnvironment = ["HIVELET_ROOT", "HIVELET_CONFIG"];

    /// <summary>Host files a container's bundle is made from (EtcFiles), besides the store's own.</summary>
    public static readonly IReadOnlyList<string> HostFiles = ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf", "/etc/hosts"];

    /// <summary>Every argument after the program name, then KEY=VALUE of each set <see cref="KeyEnvironment"/> variable, each NUL-terminated.</summary>
    public static byte[] Key(IReadOnlyList<string> arguments, Func<string, string?> environment)
    {
        var key = new List<byte>();
        foreach (var a in arguments)
        {
            key.AddRange(Encoding.UTF8.GetBytes(a));
            key.Add(0);
        }
        foreach (var name in KeyEnvironment)
        {
            if (environment(name) is { } value)
            {
                key.AddRange(Encoding.UTF8.GetBytes($"{name}={value}"));
                key.Add(0);
            }
        }
        return [.. key];
    }

    /// <summary>FNV-1a, 64 bits, as 16 hex digits: the template's file name.</summary>
    public static string FileName(ReadOnlySpan<byte> key)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (var b in key)
        {
            h ^= b;
            h *= 0x100000001b3UL;
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Why this run cannot be replayed from a template, or null when it can: the replay has no terminal,
    /// no stdin and no detach, and nothing the run read outside the store, the image and the host files a
    /// template tracks (volumes and binds, devices, env files, variables from the caller's environment,
    /// a seccomp profile file, a pull every time, an image of another architecture).
    /// </summary>
    public static string? Ineligible(RunOptions options, ContainerRecord record, string? pull)
    {
        if (options.Detach || options.Tty || options.Interactive)
            return "-d, -t and -i are not replayed";
        if (options.Volumes.Count > 0 || record.Mounts.Count > 0)
            return "volumes and binds are not replayed";
        if (options.Devices.Count > 0 || options.Privileged)
            return "devices (and --privileged, which lists the host's) are not replayed";
        if (options.Network is "host")
            return "--network host (the host's name and /etc/hosts) is not replayed";
        if (options.EnvFiles.Count > 0 || options.Env.Any(e => !e.Contains('=', StringComparison.Ordinal)))
            return "environment from files or from the caller is not replayed";
        if (options.SecurityOpt.Any(o => o.StartsWith("seccomp", StringComparison.Ordinal) && o is not ("seccomp=unconfined" or "seccomp:unconfined")))
            return "a seccomp profile file is not replayed";
        if (pull is not (null or "missing"))
            return "--pull " + pull + " is not replayed";
        if (record.Architecture != ForeignBinaryCheck.HostArchitecture)
            return "an image of another architecture is not replayed";
        return null;
    }

    /// <summary>
    /// Writes the template of an eligible run. A template is a cache: failing to write one only costs the
    /// next run its speed, so failures are logged (Debug), not thrown.
    /// </summary>
    public static void TryWrite(RunTemplateSource source, RunOptions options, string? pull, ILogger logger)
    {
        var id = source.Started.Record.Id;
        try
        {
            var why = Ineligible(options, source.Started.Record, pull) ?? Write(source);
            if (why is null)
                logger.RunTemplateWritten(id);
            else
                logger.NoRunTemplate(id, why);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HiveletException or InvalidDataException)
        {
            logger.NoRunTemplate(id, HiveletException.Describe(e));
        }
    }

    /// <summary>
    /// Writes the template of <paramref name="source"/>'s container. Returns why none was written (a step
    /// that cannot be replayed exactly), or null.
    /// </summary>
    public static string? Write(RunTemplateSource source)
    {
        var started = source.Started;
        var record = started.Record;
        if (started.Cgroup?.CreationSteps is not { } cgroupSteps)
            return "the cgroup steps were not recorded";
        if (source.Snapshots.DescribeContainer(record.Id) is not { } snapshot)
            return $"{source.Snapshots.Driver} snapshots are not replayed";
        var recordBytes = ContainerStore.Serialize(record);
        var recordText = Encoding.UTF8.GetString(recordBytes);
        var nameToken = $"\"Name\": \"{record.Name}\"";
        if (Count(recordText, nameToken) != 1 || ValueOf(recordText, "\"Created\": \"") is not { } created ||
            Count(recordText, $"\"Created\": \"{created}\"") != 1)
            return "the record's name or creation time is not unique in it";

        string root = source.Store.StoreRootPath;
        string bundle = source.Store.BundleDir(record.Id);
        string runDir = source.Store.RunDir(record.Id);
        // On a tmpfs /run the run dir is a directory of its own; otherwise it is BUNDLE/run.
        bool runDirApart = !string.Equals(Path.GetDirectoryName(runDir), bundle, StringComparison.Ordinal);
        var t = new TemplateWriter();
        t.Add("version", Version.ToString(CultureInfo.InvariantCulture));
        t.Add("key", Convert.ToHexStringLower(Key(source.Arguments, source.Environment)));
        t.Add("boot", (ReadText("/proc/sys/kernel/random/boot_id") ?? "").Trim());
        t.Add("id", record.Id);
        t.Add("name", record.Name);
        t.Add("created", created);
        t.Add("name_fixed", source.NameGiven ? "1" : "0");
        t.Add("adjectives", string.Join(',', NameGenerator.Adjectives));
        t.Add("nouns", string.Join(',', NameGenerator.Nouns));
        t.Add("exe", source.Exe);
        t.Add("bundle", bundle);
        t.Add("monitor_log", Path.Combine(bundle, ContainerRuntime.MonitorLogName));
        t.Add("autoremove", record.HostConfig.AutoRemove ? "1" : "0");
        // As they were before the run read them: a file that changed since is not what the steps were made from.
        foreach (var dep in Dependencies(source.Dependencies, source.Exe))
        {
            var sig = Signature(dep);
            if (!source.SignaturesBefore.TryGetValue(dep, out var before) || before != sig)
                return $"{dep} changed while the run read it";
            t.Add("dep", dep, sig);
        }
        foreach (var need in snapshot.Needs.Concat(cgroupSteps.Where(s => s.Kind == "need").Select(s => s.Path)))
            t.Add("need", need);
        if (runDirApart)
            t.Add("need", Path.GetDirectoryName(runDir)!);

        // Creation, in ContainerStore.Create's order: the bundle first, the record last.
        t.Add("mkdir", bundle, Octal(Sys.LStat(bundle).Permissions));
        foreach (var (path, mode) in snapshot.Directories)
            t.Add("mkdir", path, Octal(mode));
        t.Add("file", snapshot.MetaPath, Octal(snapshot.MetaMode), Convert.ToHexStringLower(snapshot.Meta));
        t.Add("overlay", snapshot.MountWorkingDirectory, snapshot.MountTarget, snapshot.MountOptions);
        foreach (var step in cgroupSteps)
        {
            switch (step.Kind)
            {
                case "cgdir":
                    t.Add("cgdir", step.Path);
                    break;
                case "cgwrite":
                    t.Add("cgwrite", step.Path, step.Value);
                    break;
                case "cgbpf":
                    t.Add("cgbpf", step.Path, step.Value, Convert.ToHexStringLower(step.Program!));
                    break;
            }
        }
        if (runDirApart)
            t.Add("mkdir", runDir, Octal(Sys.LStat(runDir).Permissions));
        if (AddBundle(t, bundle, runDirApart ? null : runDir) is { } why)
            return why;
        t.Add("record", source.Store.RecordPath(record.Id), Convert.ToHexStringLower(recordBytes));

        // Removal, in ContainerRuntime.RemoveAsync's order; the snapshot and the bundle (with its record,
        // in one rename) move to ROOT/trash and are deleted after the run returns.
        foreach (var step in cgroupSteps.Where(s => s.Kind == "cgdir").Reverse())
            t.Add("rm_cgroup", step.Path);
        t.Add("rm_mount", snapshot.MountTarget);
        t.Add("rm_trash", snapshot.Directory);
        if (runDirApart)
            t.Add("rm_tree", runDir);
        t.Add("rm_trash", bundle);
        t.Add("end", "1");

        var dir = Path.Combine(root, DirectoryName);
        StoreRootDirectory(dir);
        var key = Key(source.Arguments, source.Environment);
        AtomicFile.WriteAllBytes(Path.Combine(dir, FileName(key)), t.ToArray());
        Prune(dir);
        return null;
    }

    /// <summary>The files BundleWriter wrote and the bundle's directories; nothing the monitor or the container wrote.</summary>
    private static string? AddBundle(TemplateWriter t, string bundle, string? runDirInside)
    {
        foreach (var name in BundleWriter.Files)
        {
            var path = Path.Combine(bundle, name);
            if (Sys.TryLStat(path, out var st) != 0)
                continue;
            if (!st.IsRegularFile)
                return $"bundle entry {name} is not a file";
            t.Add("file", path, Octal(st.Permissions), Convert.ToHexStringLower(File.ReadAllBytes(path)));
        }
        var rootfs = Path.Combine(bundle, "rootfs");
        t.Add("mkdir", rootfs, Octal(Sys.LStat(rootfs).Permissions));
        if (runDirInside is not null)
            t.Add("mkdir", runDirInside, Octal(Sys.LStat(runDirInside).Permissions));
        return null;
    }

    /// <summary>Every file a template depends on: the store's and the configuration's, the host's, the binary.</summary>
    public static IEnumerable<string> Dependencies(IEnumerable<string> store, string exe) =>
        store.Concat(HostFiles).Append(exe).Distinct(StringComparer.Ordinal);

    /// <summary>The signature of each of <paramref name="paths"/>, taken before a run reads them.</summary>
    public static IReadOnlyDictionary<string, string> Signatures(IEnumerable<string> paths) =>
        paths.Distinct(StringComparer.Ordinal).ToDictionary(p => p, Signature, StringComparer.Ordinal);

    /// <summary>"MAJOR:MINOR:INODE:SIZE:MTIME_NS" of stat(2) (a symlink followed), "-" when missing; fastrun.c compares the same.</summary>
    public static string Signature(string path)
    {
        if (Sys.TryStat(path, out var st) != 0)
            return "-";
        long mtime = st.ModifySeconds * 1_000_000_000L + st.ModifyNanoseconds;
        return string.Create(CultureInfo.InvariantCulture, $"{st.DeviceMajor}:{st.DeviceMinor}:{st.Inode}:{st.Size}:{mtime}");
    }

    private static void Prune(string dir)
    {
        var files = new DirectoryInfo(dir).GetFiles();
        if (files.Length <= MaxTemplates)
            return;
        foreach (var f in files.OrderBy(f => f.LastWriteTimeUtc).Take(files.Length - MaxTemplates))
            f.Delete();
    }

    private static void StoreRootDirectory(string dir) => Hivelet.Images.Content.StoreRoot.CreatePrivate(dir);

    private static string Octal(uint mode) => Convert.ToString(mode & 0xFFF, 8);

    private static int Count(string text, string token)
    {
        int n = 0;
        for (int i = text.IndexOf(token, StringComparison.Ordinal); i >= 0; i = text.IndexOf(token, i + token.Length, StringComparison.Ordinal))
            n++;
        return n;
    }

    private static string? ValueOf(string text, string prefix)
    {
        int i = text.IndexOf(prefix, StringComparison.Ordinal);
        if (i < 0)
            return null;
        int end = text.IndexOf('"', i + prefix.Length);
        return end < 0 ? null : text[(i + prefix.Length)..end];
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>KEY=VALUE\0 records, fields of a value separated by \x1f (as plan files).</summary>
    private sealed class TemplateWriter
    {
        private readonly MemoryStream _out = new();

        public void Add(string key, params string[] fields)
        {
            var value = string.Join('\x1f', fields);
            if (value.Contains('\0', StringComparison.Ordinal) || fields.Any(f => f.Contains('\x1f', StringComparison.Ordinal)))
                throw new InvalidDataException($"run template: {key} holds a NUL or a field separator");
            _out.Write(Encoding.UTF8.GetBytes($"{key}={value}"));
            _out.WriteByte(0);
        }

        public byte[] ToArray() => _out.ToArray();
    }
}
