using System.Globalization;
using System.Text.Json;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.IO;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Security;
using Hivelet.Runtime.Volumes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Hivelet.Runtime.Spec.Flags;

namespace Hivelet.Runtime.Spec;

/// <summary>Everything <see cref="BundleWriter.Write"/> needs for one start of a container.</summary>
public sealed record BundleRequest(
    ContainerRecord Record,
    ImageConfig Image,
    string BundleDir,
    string RootfsSource,
    ICgroup Cgroup,
    CgroupLayout Layout,
    string Exe,
    string StoreRoot,
    string RunDir,
    bool Attach);

/// <summary>One mount of the plan: DEST is inside the container, FLAGS are MS_* bits.</summary>
public readonly record struct PlanMount(string Type, string Source, string Destination, ulong Flags, string Data, string Kind);

/// <summary>
/// Writes a container's bundle for one start (native/CONTRACT.md): plan, config.json, hostname, hosts,
/// resolv.conf, seccomp.bpf and exec.plan (health probes), each temp + rename (no fsync: see Replace), and the
/// rootfs/ mount point. The plan follows Docker's defaults (runtime.md C1-C14).
/// </summary>
public sealed class BundleWriter
{
    public const string PlanFile = "plan";
    public const string ConfigFile = "config.json";
    public const string SeccompFile = "seccomp.bpf";
    public const string HealthPlanFile = "exec.plan";

    /// <summary>Every file this writes into a bundle (RunTemplates copies exactly these).</summary>
    public static readonly IReadOnlyList<string> Files = [ConfigFile, PlanFile, SeccompFile, HealthPlanFile, "hostname", "hosts", "resolv.conf"];

    private readonly ILogger _logger;

    public BundleWriter(ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
    }

    public void Write(BundleRequest request)
    {
        var content = Build(request);
        VolumeSeeder.SeedEmptyVolumes(request.Record, request.RootfsSource, _logger);
        var dir = request.BundleDir;
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(Path.Combine(dir, "rootfs"));
        Replace(Path.Combine(dir, "hostname"), System.Text.Encoding.UTF8.GetBytes(content.Hostname));
        Replace(Path.Combine(dir, "hosts"), System.Text.Encoding.UTF8.GetBytes(content.Hosts));
        Replace(Path.Combine(dir, "resolv.conf"), System.Text.Encoding.UTF8.GetBytes(content.ResolvConf));
        var seccompPath = Path.Combine(dir, SeccompFile);
        if (content.Seccomp != null)
            Replace(seccompPath, content.Seccomp);
        else
            File.Delete(seccompPath);
        var healthPath = Path.Combine(dir, HealthPlanFile);
        if (content.HealthPlan != null)
            Replace(healthPath, content.HealthPlan.ToBytes());
        else
            File.Delete(healthPath);
        Replace(Path.Combine(dir, ConfigFile), JsonSerializer.SerializeToUtf8Bytes(content.Config, SpecJsonContext.Default.OciSpec));
        // The plan last: it names the files above, and its presence means the bundle is complete.
        Replace(Path.Combine(dir, PlanFile), content.Plan.ToBytes());
        SpecLog.BundleWritten(_logger, request.Record.Id, dir);
    }

    /// <summary>
    /// Temp + rename without fsync. Every file here is regenerated from container.json (which is
    /// durable) at each start and read only by that start's monitor, its container and its exec
    /// and health plans: a power loss that could leave one empty or old also ends all of those, and the
    /// next start writes them again. The rename still keeps a concurrent reader from seeing half a file;
    /// a temp left by a kill -9 is removed by the store's repair (AtomicFile's temp naming).
    /// </summary>
    private static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var tmp = AtomicFile.TempPathFor(path);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                fs.Write(content);
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    /// <summary>What <see cref="Write"/> puts in the bundle, computed without writing anything.</summary>
    public sealed record Content(
        PlanWriter Plan, OciSpec Config, string Hostname, string Hosts, string ResolvConf, byte[]? Seccomp,
        PlanWriter? HealthPlan);

    public Content Build(BundleRequest r)
    {
        var rec = r.Record;
        var host = rec.HostConfig;
        var cfg = rec.Config;
        bool hostNet = host.NetworkMode == "host";
        bool privileged = host.Privileged;
        string bundle = r.BundleDir;

        var user = UserResolver.Resolve(r.RootfsSource, cfg.User, host.GroupAdd);
        SpecLog.UserResolved(_logger, rec.Id, user.Uid, user.Gid);
        ulong caps = Capabilities.Resolve(host.CapAdd, host.CapDrop, privileged);
        bool noNewPrivs = NoNewPrivileges(host);
        byte[]? seccomp = SeccompFilter(rec, caps);
        SpecLog.SeccompMode(_logger, rec.Id, seccomp is null ? "unconfined" : "filter");

        string hostname = cfg.Hostname.Length > 0 ? cfg.Hostname : rec.Id[..Math.Min(12, rec.Id.Length)];
        var hostsText = EtcFiles.Hosts(hostname, hostNet, hostNet ? EtcFiles.TryRead("/etc/hosts") : null);
        var resolv = EtcFiles.ResolvConf(EtcFiles.ReadHostResolvConf(), hostNet, out bool fallback);
        if (fallback)
            SpecLog.ResolvFallback(_logger, rec.Id);

        var ns = Namespaces(host, r.Layout);
        var mounts = Mounts(r, hostNet, privileged, out var cgroupSymlinks, out bool cgroupTmpfs);
        var masked = privileged ? [] : DockerDefaults.MaskedPaths.Concat(DockerDefaults.HostThermalThrottlePaths()).ToList();
        var readOnly = privileged ? [] : DockerDefaults.ReadonlyPaths.ToList();
        if (cgroupTmpfs && !privileged)
            readOnly.Add("/sys/fs/cgroup"); // after the hierarchies are bound in: see Mounts
        var sysctls = new List<KeyValuePair<string, string>>();
        if (!hostNet)
            sysctls.AddRange(Sysctls.PrivateNetDefaults);
        foreach (var (k, v) in host.Sysctls ?? [])
        {
            Sysctls.Validate(k, hostNet);
            sysctls.RemoveAll(x => x.Key == k);
            sysctls.Add(new(k, v));
        }
        var devices = Devices(host);
        var env = RuntimeEnv(rec, cfg.Tty, user);
        var argv = new List<string> { rec.Path };
        argv.AddRange(rec.Args);
        var cwd = cfg.WorkingDir.Length > 0 ? cfg.WorkingDir : "/";
        int stopSignal = ParseSignal(string.IsNullOrEmpty(cfg.StopSignal) ? "SIGTERM" : cfg.StopSignal);

        var p = new PlanWriter();
        p.Add("version", "1").Add("id", rec.Id).Add("exe", r.Exe).Add("root", r.StoreRoot).Add("bundle", bundle)
            .Add("run_dir", r.RunDir).Add("rootfs", Path.Combine(bundle, "rootfs"))
            .AddFields("rootfs_mount", "bind", r.RootfsSource, "")
            .Add("readonly_rootfs", host.ReadonlyRootfs);
        foreach (var n in ns)
            p.Add("ns", n);
        p.Add("hostname", hostname);
        if (!hostNet)
            p.Add("net_lo", true);
        foreach (var m in mounts)
            p.AddFields("mount", m.Type, m.Source, m.Destination, m.Flags.ToString("x", CultureInfo.InvariantCulture), m.Data, m.Kind);
        foreach (var d in devices)
            p.AddFields("device", d.Path, d.Type, N(d.Major), N(d.Minor), Convert.ToString(d.FileMode, 8), N(d.Uid), N(d.Gid));
        foreach (var (target, link) in DockerDefaults.Symlinks.Concat(cgroupSymlinks))
            p.AddFields("symlink", target, link);
        foreach (var m in masked)
            p.Add("masked", m);
        foreach (var ro in readOnly)
            p.Add("readonly", ro);
        foreach (var (k, v) in sysctls)
            p.AddFields("sysctl", k, v);
        foreach (var procs in r.Cgroup.ProcsFiles)
            p.Add("cgroup_procs", procs);
        if (r.Cgroup.OomCounter is { } oom)
            p.AddFields("oom_counter", oom.File, oom.Key);
        foreach (var u in host.Ulimits ?? [])
            p.AddFields("rlimit", N(RlimitNumbers[u.Name]), N(u.Soft), N(u.Hard));
        p.Add("oom_score_adj", host.OomScoreAdj);
        AddIdentity(p, user, caps, noNewPrivs, seccomp != null ? Path.Combine(bundle, SeccompFile) : null);
        p.Add("cwd", cwd);
        foreach (var a in argv)
            p.Add("arg", a);
        foreach (var e in env)
            p.Add("env", e);
        p.Add("tty", cfg.Tty).Add("stdin", cfg.OpenStdin).Add("init", host.Init == true)
            .Add("stop_signal", stopSignal)
            .Add("restart", host.RestartPolicy.Name).Add("restart_max", host.RestartPolicy.MaximumRetryCount)
            .Add("attach", r.Attach).Add("autoremove", host.AutoRemove)
            .Add("log_path", Path.Combine(bundle, rec.Id + "-json.log"));
        var (maxSize, maxFiles) = LogRotation(host.LogConfig);
        p.Add("log_max_size", maxSize).Add("log_max_files", maxFiles);

        PlanWriter? healthPlan = null;
        var health = HealthProbe(cfg.Healthcheck);
        if (health != null)
        {
            p.Add("health_interval_ns", health.Value.Interval).Add("health_timeout_ns", health.Value.Timeout)
                .Add("health_start_period_ns", health.Value.StartPeriod).Add("health_retries", health.Value.Retries);
            healthPlan = new PlanWriter();
            healthPlan.Add("version", "1").Add("id", rec.Id).Add("pid", 0);
            foreach (var n in ns)
                healthPlan.Add("ns", n);
            foreach (var procs in r.Cgroup.ProcsFiles)
                healthPlan.Add("cgroup_procs", procs);
            AddIdentity(healthPlan, user, caps, noNewPrivs, seccomp != null ? Path.Combine(bundle, SeccompFile) : null);
            healthPlan.Add("cwd", cwd);
            foreach (var a in health.Value.Argv)
                healthPlan.Add("arg", a);
            foreach (var e in RuntimeEnv(rec, false, user))
                healthPlan.Add("env", e);
        }

        var oci = OciConfig(r, hostname, user, caps, noNewPrivs, env, argv, cwd, ns, mounts, devices, masked, readOnly, sysctls);
        return new Content(p, oci, EtcFiles.Hostname(hostname), hostsText, resolv, seccomp, healthPlan);
    }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    internal static void AddIdentity(PlanWriter p, ResolvedUser user, ulong caps, bool noNewPrivs, string? seccompPath)
    {
        p.Add("uid", user.Uid).Add("gid", user.Gid)
            .Add("groups", string.Join(',', user.Groups.Select(g => g.ToString(CultureInfo.InvariantCulture))));
        // Docker sets bounding = permitted = effective and leaves inheritable and ambient empty; for a
        // non-root uid the kernel clears permitted and effective at execve, as with Docker.
        p.AddHex("cap_bounding", caps).AddHex("cap_effective", caps).AddHex("cap_permitted", caps)
            .AddHex("cap_inheritable", 0).AddHex("cap_ambient", 0);
        p.Add("no_new_privs", noNewPrivs);
        if (seccompPath != null)
            p.Add("seccomp", seccompPath);
    }

    /// <summary>Namespaces as Docker creates them (C2): cgroup private on v2 only, no net with a host network.</summary>
    public static List<string> Namespaces(HostConfig host, CgroupLayout layout)
    {
        var ns = new List<string> { "mnt", "uts", "ipc", "pid" };
        if (host.NetworkMode != "host")
            ns.Add("net");
        if (layout == CgroupLayout.V2)
            ns.Add("cgroup");
        return ns;
    }

    public static bool NoNewPrivileges(HostConfig host) =>
        host.SecurityOpt?.Any(o => o is "no-new-privileges" or "no-new-privileges=true" or "no-new-privileges:true") ?? false;

    /// <summary>
    /// The process environment (moby CreateDaemonEnvironment): PATH (when the config has none), HOSTNAME,
    /// TERM=xterm with a tty, then the container's Env (later wins), then HOME from passwd if still unset.
    /// </summary>
    public static List<string> RuntimeEnv(ContainerRecord rec, bool tty, ResolvedUser? user)
    {
        var list = new List<string>();
        if (EnvList.Get(rec.Config.Env, "PATH") is null)
            list.Add("PATH=" + ContainerFactory.DefaultPath);
        list.Add("HOSTNAME=" + rec.Config.Hostname);
        if (tty)
            list.Add("TERM=xterm");
        list.AddRange(rec.Config.Env);
        var merged = EnvList.Merge(list);
        if (user != null && EnvList.Get(merged, "HOME") is null)
            merged.Add("HOME=" + user.Home);
        return merged;
    }

    /// <summary>
    /// json-file rotation: the record's max-size/max-file (ContainerFactory fills in hivelet's 10m x 3
    /// default); "-1" = never rotate, as Docker.
    /// </summary>
    internal static (long MaxSize, long MaxFiles) LogRotation(LogConfig log)
    {
        long size = 0, files = 1;
        if (log.Config.TryGetValue("max-size", out var s) && s != "-1")
            size = ParseBytes(s, "--log-opt max-size");
        if (log.Config.TryGetValue("max-file", out var f))
            files = Math.Max(1, ParseLong(f, "--log-opt max-file"));
        return (size, files);
    }

    internal readonly record struct Probe(List<string> Argv, long Interval, long Timeout, long StartPeriod, long Retries);

    /// <summary>Docker's health defaults: 30 s interval, 30 s timeout, 0 start period, 3 retries.</summary>
    internal static Probe? HealthProbe(Images.Oci.HealthConfig? h)
    {
        if (h?.Test is not { Count: > 0 } test || test[0] == "NONE")
            return null;
        List<string> argv = test[0] switch
        {
            "CMD" => test.Skip(1).ToList(),
            "CMD-SHELL" => ["/bin/sh", "-c", string.Join(' ', test.Skip(1))],
            _ => throw new InvalidInputException($"unknown healthcheck type '{test[0]}' (expected CMD, CMD-SHELL or NONE)"),
        };
        if (argv.Count == 0)
            return null;
        const long defaultNs = 30_000_000_000;
        return new Probe(argv,
            h.Interval is > 0 ? h.Interval.Value : defaultNs,
            h.Timeout is > 0 ? h.Timeout.Value : defaultNs,
            h.StartPeriod is > 0 ? h.StartPeriod.Value : 0,
            h.Retries is > 0 ? h.Retries.Value : 3);
    }

    private byte[]? SeccompFilter(ContainerRecord rec, ulong caps)
    {
        if (rec.HostConfig.Privileged)
            return null;
        SeccompProfile profile = SeccompProfile.DockerDefault;
        foreach (var o in rec.HostConfig.SecurityOpt ?? [])
        {
            if (!o.StartsWith("seccomp=", StringComparison.Ordinal))
                continue;
            var value = o["seccomp=".Length..];
            if (value == "unconfined")
                return null;
            profile = SeccompProfile.Parse(System.Text.Encoding.UTF8.GetBytes(value), "--security-opt seccomp");
        }
        return profile.Compile(SeccompProfile.HostArch, caps);
    }

    private static List<OciDevice> Devices(HostConfig host)
    {
        var list = DockerDefaults.Devices
            .Select(d => new OciDevice { Path = d.Path, Type = "c", Major = d.Major, Minor = d.Minor, FileMode = 0x1b6 })
            .ToList();
        if (host.Privileged)
        {
            // Like Docker, a privileged container gets a node for every device of the host.
            foreach (var (path, dev) in HostDevice.All())
            {
                if (list.Any(x => x.Path == path))
                    continue;
                list.Add(new OciDevice
                {
                    Path = path,
                    Type = dev.Type.ToString(),
                    Major = dev.Major,
                    Minor = dev.Minor,
                    FileMode = dev.Permissions,
                    Uid = dev.Uid,
                    Gid = dev.Gid,
                });
            }
        }
        foreach (var d in host.Devices ?? [])
        {
            var dev = HostDevice.Stat(d.PathOnHost);
            list.RemoveAll(x => x.Path == d.PathInContainer);
            list.Add(new OciDevice
            {
                Path = d.PathInContainer,
                Type = dev.Type.ToString(),
                Major = dev.Major,
                Minor = dev.Minor,
                FileMode = dev.Permissions,
                Uid = dev.Uid,
                Gid = dev.Gid,
            });
        }
        return list;
    }

    /// <summary>
    /// Docker's mounts in its order (C3), then the user's (binds, volumes, --tmpfs, shallowest first so
    /// /a is mounted before /a/b), then the generated /etc files.
    /// </summary>
    internal static List<PlanMount> Mounts(BundleRequest r, bool hostNet, bool privileged,
        out List<(string Target, string Link)> cgroupSymlinks, out bool cgroupTmpfs)
    {
        var host = r.Record.HostConfig;
        const ulong common = MS_NOSUID | MS_NOEXEC | MS_NODEV;
        ulong sysRo = privileged ? 0 : MS_RDONLY;
        var list = new List<PlanMount>
        {
            new("proc", "proc", "/proc", common, "", "dir"),
            new("tmpfs", "tmpfs", "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", "dir"),
            new("devpts", "devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", "dir"),
            new("tmpfs", "shm", "/dev/shm", common, "mode=1777,size=" + N(host.ShmSize), "dir"),
            new("mqueue", "mqueue", "/dev/mqueue", common, "", "dir"),
        };
        // sysfs shows the network devices of the mounting process's netns: without a netns of its own
        // the container gets the host's /sys bound in, as Docker does.
        list.Add(hostNet
            ? new("bind", "/sys", "/sys", MS_BIND | MS_REC | common | sysRo, "", "dir")
            : new("sysfs", "sysfs", "/sys", common | sysRo, "", "dir"));

        cgroupSymlinks = [];
        cgroupTmpfs = false;
        if (r.Layout == CgroupLayout.V2)
        {
            // In its own cgroup namespace the container's cgroup2 mount shows its own group as the root.
            list.Add(new("cgroup2", "cgroup", "/sys/fs/cgroup", common | sysRo, "", "dir"));
        }
        else
        {
            // v1 and hybrid (host cgroup namespace, as Docker): a tmpfs holding the container's own group of
            // each hierarchy. The tmpfs is made read-only through `readonly` once the binds are in place.
            cgroupTmpfs = true;
            list.Add(new("tmpfs", "cgroup", "/sys/fs/cgroup", common, "mode=755", "dir"));
            foreach (var procs in r.Cgroup.ProcsFiles)
            {
                var dir = Path.GetDirectoryName(procs)!;
                var rel = Path.GetRelativePath("/sys/fs/cgroup", dir);
                if (rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel))
                    continue;
                var hierarchy = rel.Split('/')[0];
                list.Add(new("bind", dir, "/sys/fs/cgroup/" + hierarchy, MS_BIND | common | sysRo, "", "dir"));
                foreach (var part in hierarchy.Split(','))
                {
                    if (part != hierarchy)
                        cgroupSymlinks.Add((hierarchy, "/sys/fs/cgroup/" + part));
                }
            }
        }

        var user = new List<PlanMount>();
        foreach (var m in r.Record.Mounts)
        {
            ulong flags = MS_BIND | MS_REC | (m.RW ? 0 : MS_RDONLY);
            string kind = Directory.Exists(m.Source) ? "dir" : File.Exists(m.Source) ? "file" :
                throw new HiveletException($"mount {m.Source} on {m.Destination}: the source does not exist");
            user.Add(new("bind", m.Source, m.Destination, flags, "", kind));
        }
        foreach (var (dst, opts) in host.Tmpfs ?? [])
        {
            var (flags, data) = TmpfsMountOptions(opts, dst + ":" + opts);
            user.Add(new("tmpfs", "tmpfs", dst, flags, data, "dir"));
        }
        list.AddRange(user.OrderBy(m => m.Destination.Count(c => c == '/')));

        ulong etcRo = host.ReadonlyRootfs ? MS_RDONLY : 0;
        foreach (var name in new[] { "resolv.conf", "hostname", "hosts" })
        {
            var dst = "/etc/" + name;
            if (r.Record.Mounts.Any(m => m.Destination == dst))
                continue; // the user's own bind wins, as in Docker
            list.Add(new("bind", Path.Combine(r.BundleDir, name), dst, MS_BIND | etcRo, "", "file"));
        }
        return list;
    }

    private static OciSpec OciConfig(BundleRequest r, string hostname, ResolvedUser user, ulong caps, bool noNewPrivs,
        List<string> env, List<string> argv, string cwd, List<string> ns, List<PlanMount> mounts, List<OciDevice> devices,
        List<string> masked, List<string> readOnly, List<KeyValuePair<string, string>> sysctls)
    {
        var host = r.Record.HostConfig;
        var capNames = Capabilities.ToNames(caps);
        var res = ContainerResources.From(host);
        var spec = new OciSpec
        {
            Hostname = hostname,
            Root = new OciRoot { Path = "rootfs", Readonly = host.ReadonlyRootfs },
            Process = new OciProcess
            {
                Terminal = r.Record.Config.Tty,
                User = new OciUser { Uid = user.Uid, Gid = user.Gid, AdditionalGids = user.Groups.Count > 0 ? [.. user.Groups] : null },
                Args = argv,
                Env = env,
                Cwd = cwd,
                Capabilities = new OciCapabilities { Bounding = capNames, Effective = [.. capNames], Permitted = [.. capNames] },
                Rlimits = host.Ulimits?.Select(u => new OciRlimit
                {
                    Type = "RLIMIT_" + u.Name.ToUpperInvariant(),
                    Soft = u.Soft < 0 ? ulong.MaxValue : (ulong)u.Soft,
                    Hard = u.Hard < 0 ? ulong.MaxValue : (ulong)u.Hard,
                }).ToList(),
                NoNewPrivileges = noNewPrivs,
                OomScoreAdj = host.OomScoreAdj,
            },
            Mounts = mounts.Select(m => new OciMount
            {
                Destination = m.Destination,
                Type = m.Type,
                Source = m.Source,
                Options = MountOptions(m),
            }).ToList(),
            Linux = new OciLinux
            {
                Namespaces = ns.Select(n => new OciNamespace
                {
                    Type = n switch { "mnt" => "mount", "net" => "network", _ => n },
                }).ToList(),
                Devices = devices,
                Sysctl = sysctls.Count > 0 ? sysctls.ToDictionary(kv => kv.Key, kv => kv.Value) : null,
                MaskedPaths = masked.Count > 0 ? masked : null,
                ReadonlyPaths = readOnly.Count > 0 ? readOnly : null,
                Resources = new OciResources
                {
                    Devices = [new OciDeviceRule { Allow = false, Type = "a", Access = "rwm" },
                        .. res.Devices.Select(d => new OciDeviceRule
                        {
                            Allow = d.Allow,
                            Type = d.Type.ToString(),
                            Major = d.Major < 0 ? null : d.Major,
                            Minor = d.Minor < 0 ? null : d.Minor,
                            Access = d.Access,
                        })],
                    Memory = res.MemoryBytes is null && res.MemorySwapBytes is null ? null
                        : new OciMemory { Limit = res.MemoryBytes, Swap = res.MemorySwapBytes },
                    Cpu = res.NanoCpus is null && res.CpuShares is null && res.CpusetCpus is null && res.CpusetMems is null ? null
                        : new OciCpu
                        {
                            Shares = res.CpuShares is { } s ? (ulong)s : null,
                            Period = res.NanoCpus is null ? null : 100_000,
                            Quota = res.NanoCpus is { } nc ? nc / 10_000 : null,
                            Cpus = res.CpusetCpus,
                            Mems = res.CpusetMems,
                        },
                    Pids = res.PidsLimit is { } pl ? new OciPids { Limit = pl } : null,
                    BlockIO = res.BlkioWeight is { } w ? new OciBlockIo { Weight = (ushort)w } : null,
                },
            },
        };
        return spec;
    }

    private static List<string> MountOptions(PlanMount m)
    {
        var o = new List<string>();
        if ((m.Flags & MS_BIND) != 0)
            o.Add((m.Flags & MS_REC) != 0 ? "rbind" : "bind");
        o.Add((m.Flags & MS_RDONLY) != 0 ? "ro" : "rw");
        if ((m.Flags & MS_NOSUID) != 0)
            o.Add("nosuid");
        if ((m.Flags & MS_NOEXEC) != 0)
            o.Add("noexec");
        if ((m.Flags & MS_NODEV) != 0)
            o.Add("nodev");
        if ((m.Flags & MS_STRICTATIME) != 0)
            o.Add("strictatime");
        if (m.Data.Length > 0)
            o.AddRange(m.Data.Split(','));
        return o;
    }
}
