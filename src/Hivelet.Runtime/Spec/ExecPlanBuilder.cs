using System.Globalization;
using System.Security.Cryptography;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Hivelet.IO;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Security;

namespace Hivelet.Runtime.Spec;

/// <summary>
/// One-shot exec plans (CONTRACT.md "Exec plans") for `hivelet exec`: the process joins the container's
/// namespaces and cgroup and gets its capabilities, seccomp filter and no_new_privs, with exec's
/// -u/-e/-w/-t overrides, as `docker exec` does.
/// </summary>
public static class ExecPlanBuilder
{
    /// <summary>
    /// Writes BUNDLE/exec-&lt;random&gt;.plan (delete_plan=1: `__exec` unlinks it once read) and returns its path.
    /// -u is resolved from <paramref name="rootfsForLookup"/>, the container's root as the host sees it
    /// (e.g. /proc/PID/root). The cgroup files come from <paramref name="cgroup"/> or, when null, from
    /// /proc/PID/cgroup. A non-zero <paramref name="pidStart"/> (the status file's pid_start) makes `__exec`
    /// refuse a pid that was reused by another process since.
    /// </summary>
    public static string Write(ContainerRecord record, ImageConfig image, string bundleDir, int pid,
        ExecOptions options, string rootfsForLookup, ICgroup? cgroup = null, ulong pidStart = 0)
    {
        var plan = Build(record, bundleDir, pid, options, rootfsForLookup,
            cgroup?.ProcsFiles ?? ProcsFilesOf(pid), LayoutOf(pid));
        if (pidStart != 0)
            plan.Add("pid_start", pidStart.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var path = Path.Combine(bundleDir, $"exec-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.plan");
        AtomicFile.WriteAllBytes(path, plan.ToBytes());
        return path;
    }

    internal static PlanWriter Build(ContainerRecord record, string bundleDir, int pid, ExecOptions options,
        string rootfsForLookup, IReadOnlyList<string> procsFiles, CgroupLayout layout)
    {
        if (options.Command.Count == 0 || options.Command[0].Length == 0)
            throw new Errors.InvalidInputException("exec: no command specified");
        var host = record.HostConfig;
        var userSpec = string.IsNullOrEmpty(options.User) ? record.Config.User : options.User;
        var user = UserResolver.Resolve(rootfsForLookup, userSpec, host.GroupAdd);
        bool privileged = options.Privileged || host.Privileged;
        ulong caps = Capabilities.Resolve(host.CapAdd, host.CapDrop, privileged);
        var seccompPath = Path.Combine(bundleDir, BundleWriter.SeccompFile);
        // `docker exec --privileged` runs without the container's seccomp filter.
        string? seccomp = !privileged && File.Exists(seccompPath) ? seccompPath : null;

        var env = BundleWriter.RuntimeEnv(record, options.Tty, user);
        env = EnvList.Merge(env.Concat(EnvList.FromFlags(options.Env, "--env")));

        var cwd = !string.IsNullOrEmpty(options.Workdir) ? options.Workdir
            : record.Config.WorkingDir.Length > 0 ? record.Config.WorkingDir : "/";
        if (!cwd.StartsWith('/'))
            throw new Errors.InvalidInputException($"the working directory '{cwd}' is invalid, it needs to be an absolute path");

        var p = new PlanWriter();
        p.Add("version", "1").Add("id", record.Id).Add("pid", pid);
        foreach (var n in BundleWriter.Namespaces(host, layout))
            p.Add("ns", n);
        foreach (var f in procsFiles)
            p.Add("cgroup_procs", f);
        BundleWriter.AddIdentity(p, user, caps, BundleWriter.NoNewPrivileges(host), seccomp);
        p.Add("cwd", cwd);
        foreach (var a in options.Command)
            p.Add("arg", a);
        foreach (var e in env)
            p.Add("env", e);
        p.Add("tty", options.Tty).Add("stdin", options.Interactive).Add("delete_plan", true);
        return p;
    }

    /// <summary>Whether the host runs cgroup v2 only (then the container has its own cgroup namespace).</summary>
    private static CgroupLayout LayoutOf(int pid)
    {
        var lines = ReadCgroupLines(pid);
        return lines.All(l => l.StartsWith("0::", StringComparison.Ordinal)) ? CgroupLayout.V2
            : Directory.Exists("/sys/fs/cgroup/unified") ? CgroupLayout.Hybrid : CgroupLayout.V1;
    }

    private static List<string> ReadCgroupLines(int pid)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cgroup";
        try
        {
            return File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Errors.HiveletException($"read {path}: the container's process is gone ({e.Message})");
        }
    }

    /// <summary>The cgroup.procs files of the groups <paramref name="pid"/> is in (named v1 hierarchies skipped).</summary>
    internal static List<string> ProcsFilesOf(int pid)
    {
        var lines = ReadCgroupLines(pid);
        bool pureV2 = lines.All(l => l.StartsWith("0::", StringComparison.Ordinal));
        var result = new List<string>();
        foreach (var line in lines)
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3 || parts[1].StartsWith("name=", StringComparison.Ordinal))
                continue;
            string mount = parts[1].Length == 0
                ? (pureV2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified")
                : "/sys/fs/cgroup/" + parts[1];
            var file = Path.Combine(mount + parts[2], "cgroup.procs");
            if (Sys.TryLStat(file, out _) == 0)
                result.Add(file);
        }
        return result;
    }
}
