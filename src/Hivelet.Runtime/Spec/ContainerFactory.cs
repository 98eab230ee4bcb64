using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Images.References;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Security;
using Hivelet.Runtime.Volumes;
using OciHealth = Hivelet.Images.Oci.HealthConfig;

namespace Hivelet.Runtime.Spec;

/// <summary>
/// Turns `run`/`create` flags and an image config into a container record, validating every flag and
/// merging with the image the way Docker does (moby daemon/commit.go `merge` and the CLI's parsing).
/// </summary>
public static partial class ContainerFactory
{
    /// <summary>Docker's PATH when neither the image nor the flags set one.</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Docker's log rotation is unbounded by default (json-file max-size -1). hivelet rotates at
    /// 10 MB x 3 files unless told otherwise: a Raspberry Pi's SD card fills and wears out otherwise.</summary>
    public const string DefaultLogMaxSize = "10m";
    public const string DefaultLogMaxFile = "3";

    /// <summary>Docker's --shm-size default (daemon/config DefaultShmSize).</summary>
    public const long DefaultShmSize = 64L * 1024 * 1024;

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^\d+(-\d+)?(,\d+(-\d+)?)*$")]
    private static partial Regex CpusetPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})?$")]
    private static partial Regex HostnamePattern();

    /// <summary>Docker's rule for --name.</summary>
    public static void ValidateName(string name)
    {
        var n = name.StartsWith('/') ? name[1..] : name;
        if (!NamePattern().IsMatch(n))
            throw new InvalidInputException($"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }

    public static ContainerRecord Create(RunOptions options, ImageConfig image, string imageDigest,
        string? topChainId, string id, string name, VolumeStore volumes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(image);
        ValidateImageReference(options.Image);
        var img = image.Config ?? new ContainerConfig();

        var network = options.Network ?? "none";
        if (network is not ("none" or "host"))
            throw new InvalidInputException(
                $"invalid argument \"{network}\" for \"--network\" flag: hivelet has no {network} networking yet; use none or host");
        bool hostNet = network == "host";

        var config = new RunConfig
        {
            Image = options.Image,
            Tty = options.Tty,
            OpenStdin = options.Interactive,
            AttachStdin = options.Interactive && !options.Detach,
            StdinOnce = options.Interactive && !options.Detach,
            AttachStdout = !options.Detach,
            AttachStderr = !options.Detach,
        };

        // Hostname: Docker uses the first 12 hex of the id, or the host's name with --network host.
        var hostname = options.Hostname;
        if (string.IsNullOrEmpty(hostname))
            hostname = hostNet ? Environment.MachineName : id[..Math.Min(12, id.Length)];
        else if (!HostnamePattern().IsMatch(hostname))
            throw new InvalidInputException($"invalid argument \"{hostname}\" for \"--hostname\" flag: invalid hostname format");
        config.Hostname = hostname;

        config.User = options.User ?? img.User ?? "";
        if (options.User != null)
            UserResolver.Parse(options.User, "--user");

        // Env: the user's (files first, then -e; later wins), then the image's for names the user did not set.
        var userEnv = EnvList.Merge(EnvList.ReadEnvFiles(options.EnvFiles).Concat(EnvList.FromFlags(options.Env, "--env")));
        var env = new List<string>(userEnv);
        var userKeys = new HashSet<string>(userEnv.Select(EnvList.Key), StringComparer.Ordinal);
        foreach (var e in img.Env ?? [])
        {
            if (!userKeys.Contains(EnvList.Key(e)))
                env.Add(e);
        }
        config.Env = env;

        // Entrypoint and Cmd (Docker's run reference): --entrypoint replaces the image's and drops its Cmd;
        // `--entrypoint ""` clears it and keeps the image's Cmd unless arguments are given; arguments
        // replace Cmd and keep the image's entrypoint.
        List<string>? entrypoint;
        List<string>? cmd;
        if (options.Entrypoint is null)
        {
            entrypoint = img.Entrypoint is { Count: > 0 } ep ? [.. ep] : null;
            cmd = options.Command.Count > 0 ? [.. options.Command] : img.Cmd is { Count: > 0 } c ? [.. c] : null;
        }
        else if (options.Entrypoint.Length == 0)
        {
            entrypoint = null;
            cmd = options.Command.Count > 0 ? [.. options.Command] : img.Cmd is { Count: > 0 } c ? [.. c] : null;
        }
        else
        {
            entrypoint = [options.Entrypoint];
            cmd = options.Command.Count > 0 ? [.. options.Command] : null;
        }
        config.Entrypoint = entrypoint;
        config.Cmd = cmd;
        var argv = new List<string>();
        argv.AddRange(entrypoint ?? []);
        argv.AddRange(cmd ?? []);
        if (argv.Count == 0 || argv[0].Length == 0)
            throw new InvalidInputException($"create {name}: no command specified");
        foreach (var a in argv)
            PlanWriter.CheckValue(a, "command argument");

        var workdir = options.Workdir ?? img.WorkingDir ?? "";
        if (workdir.Length > 0 && !workdir.StartsWith('/'))
            throw new InvalidInputException($"the working directory '{workdir}' is invalid, it needs to be an absolute path");
        config.WorkingDir = workdir.Length > 0 ? Flags.CleanPath(workdir) : "";

        config.Labels = new Dictionary<string, string>(img.Labels ?? [], StringComparer.Ordinal);
        foreach (var (k, v) in Flags.ParseKeyValues(options.Labels, "--label", valueRequired: false))
            config.Labels[k] = v;

        if (options.StopSignal != null)
        {
            Flags.ParseSignal(options.StopSignal);
            config.StopSignal = options.StopSignal;
        }
        else
        {
            config.StopSignal = img.StopSignal;
        }
        if (options.StopTimeout != null)
            config.StopTimeout = Flags.ParseInt(options.StopTimeout, "--stop-timeout");

        config.Healthcheck = MergeHealth(options, img.Healthcheck);
        if (img.Volumes is { Count: > 0 })
            config.Volumes = img.Volumes.Keys.ToDictionary(k => k, _ => new EmptyObject(), StringComparer.Ordinal);

        var host = BuildHostConfig(options, network);

        var record = new ContainerRecord
        {
            Id = id,
            Name = name.StartsWith('/') ? name : "/" + name,
            Created = DateTimeOffset.UtcNow,
            ImageRef = options.Image,
            Image = imageDigest,
            TopChainId = topChainId,
            Platform = string.IsNullOrEmpty(image.Os) ? "linux" : image.Os,
            Architecture = image.Architecture,
            Path = argv[0],
            Args = argv.Skip(1).ToList(),
            Config = config,
            HostConfig = host,
        };

        // Side effects last, once every flag is known to be valid.
        record.Mounts = BuildMounts(options, img, host, volumes);
        return record;
    }

    private static void ValidateImageReference(string image)
    {
        if (image.Length == 0)
            throw new InvalidInputException("invalid reference format: repository name must have at least one component");
        // Image ids (full, short or sha256:-prefixed) are not references and were resolved by the caller.
        var hex = image.StartsWith("sha256:", StringComparison.Ordinal) ? image[7..] : image;
        if (hex.Length is >= 4 and <= 64 && hex.All(char.IsAsciiHexDigitLower))
            return;
        ImageReference.Parse(image);
    }

    private static OciHealth? MergeHealth(RunOptions o, OciHealth? image)
    {
        bool anyFlag = o.HealthCmd != null || o.HealthInterval != null || o.HealthTimeout != null ||
            o.HealthRetries != null || o.HealthStartPeriod != null;
        if (o.NoHealthcheck)
        {
            if (anyFlag)
                throw new InvalidInputException("--no-healthcheck conflicts with --health-* options");
            return new OciHealth { Test = ["NONE"] };
        }
        long interval = HealthDuration(o.HealthInterval, "--health-interval");
        long timeout = HealthDuration(o.HealthTimeout, "--health-timeout");
        long start = HealthDuration(o.HealthStartPeriod, "--health-start-period");
        int retries = 0;
        if (o.HealthRetries != null)
        {
            retries = Flags.ParseInt(o.HealthRetries, "--health-retries");
            if (retries < 0)
                throw new InvalidInputException("--health-retries cannot be negative");
        }
        if (!anyFlag)
            return image is null ? null : new OciHealth
            {
                Test = image.Test is null ? null : [.. image.Test],
                Interval = image.Interval,
                Timeout = image.Timeout,
                StartPeriod = image.StartPeriod,
                StartInterval = image.StartInterval,
                Retries = image.Retries,
            };
        // Docker's merge: fields the user left at zero come from the image.
        return new OciHealth
        {
            Test = o.HealthCmd != null ? ["CMD-SHELL", o.HealthCmd] : image?.Test is { Count: > 0 } t ? [.. t] : null,
            Interval = interval != 0 ? interval : image?.Interval ?? 0,
            Timeout = timeout != 0 ? timeout : image?.Timeout ?? 0,
            StartPeriod = start != 0 ? start : image?.StartPeriod ?? 0,
            StartInterval = image?.StartInterval,
            Retries = retries != 0 ? retries : image?.Retries ?? 0,
        };
    }

    private static long HealthDuration(string? value, string flag)
    {
        if (value is null)
            return 0;
        var d = Flags.ParseDuration(value, flag);
        if (d < TimeSpan.Zero)
            throw new InvalidInputException($"{flag} cannot be negative");
        if (d != TimeSpan.Zero && d < TimeSpan.FromMilliseconds(1))
            throw new InvalidInputException($"{flag} cannot be less than 1ms");
        return d.Ticks * 100;
    }

    private static HostConfig BuildHostConfig(RunOptions o, string network)
    {
        var h = new HostConfig
        {
            NetworkMode = network,
            AutoRemove = o.AutoRemove,
            Privileged = o.Privileged,
            ReadonlyRootfs = o.ReadOnly,
            Init = o.Init ? true : null,
            CapAdd = o.CapAdd.Count > 0 ? [.. o.CapAdd] : null,
            CapDrop = o.CapDrop.Count > 0 ? [.. o.CapDrop] : null,
            GroupAdd = o.GroupAdd.Count > 0 ? [.. o.GroupAdd] : null,
        };
        if (o.Restart != null)
            h.RestartPolicy = Flags.ParseRestart(o.Restart);
        if (o.AutoRemove && h.RestartPolicy.Name != "no")
            throw new InvalidInputException("conflicting options: cannot specify both --restart and --rm");

        Capabilities.Resolve(h.CapAdd, h.CapDrop, privileged: false);
        foreach (var g in o.GroupAdd)
        {
            if (g.Length == 0 || g.Contains(':'))
                throw Flags.Invalid("--group-add", g, "expected a group name or id");
        }

        // Log options: json-file only; rotation on by default (see DefaultLogMaxSize).
        var log = Flags.ParseKeyValues(o.LogOpts, "--log-opt", valueRequired: true);
        foreach (var (k, v) in log)
        {
            switch (k)
            {
                case "max-size":
                    if (v != "-1")
                        Flags.ParseBytes(v, "--log-opt max-size");
                    break;
                case "max-file":
                    if (Flags.ParseInt(v, "--log-opt max-file") < 1)
                        throw new InvalidInputException($"invalid value for max-file: {v}: must be at least 1");
                    break;
                case "compress" or "labels" or "env" or "tag" or "labels-regex" or "env-regex":
                    break;
                default:
                    throw new InvalidInputException($"unknown log opt '{k}' for json-file log driver");
            }
        }
        log.TryAdd("max-size", DefaultLogMaxSize);
        log.TryAdd("max-file", DefaultLogMaxFile);
        h.LogConfig = new LogConfig { Type = "json-file", Config = log };

        if (o.OomScoreAdj != null)
        {
            h.OomScoreAdj = Flags.ParseInt(o.OomScoreAdj, "--oom-score-adj");
            if (h.OomScoreAdj is < -1000 or > 1000)
                throw new InvalidInputException($"Invalid value {h.OomScoreAdj}, range for oom score adj is [-1000, 1000]");
        }

        h.ShmSize = DefaultShmSize;
        if (o.ShmSize != null)
        {
            h.ShmSize = Flags.ParseBytes(o.ShmSize, "--shm-size");
            if (h.ShmSize <= 0)
                throw new InvalidInputException("SHM size can not be less than 0");
        }

        if (o.Memory != null)
        {
            h.Memory = Flags.ParseBytes(o.Memory, "--memory");
            if (h.Memory != 0 && h.Memory < 6 * 1024 * 1024)
                throw new InvalidInputException("Minimum memory limit allowed is 6MB");
        }
        if (o.MemorySwap != null)
        {
            h.MemorySwap = o.MemorySwap.Trim() == "-1" ? -1 : Flags.ParseBytes(o.MemorySwap, "--memory-swap");
            if (h.Memory == 0 && h.MemorySwap != 0)
                throw new InvalidInputException("You should always set the Memory limit when using Memoryswap limit, see usage");
            if (h.MemorySwap > 0 && h.MemorySwap < h.Memory)
                throw new InvalidInputException("Minimum memoryswap limit should be larger than memory limit, see usage");
        }
        if (o.Cpus != null)
        {
            h.NanoCpus = Flags.ParseNanoCpus(o.Cpus, "--cpus");
            long max = Environment.ProcessorCount * 1_000_000_000L;
            if (h.NanoCpus < 0 || h.NanoCpus > max)
                throw new InvalidInputException(
                    $"Range of CPUs is from 0.01 to {Environment.ProcessorCount}.00, as there are only {Environment.ProcessorCount} CPUs available");
        }
        if (o.CpuShares != null)
        {
            h.CpuShares = Flags.ParseLong(o.CpuShares, "--cpu-shares");
            if (h.CpuShares < 0)
                throw new InvalidInputException($"invalid argument \"{o.CpuShares}\" for \"--cpu-shares\" flag: shares must be positive");
        }
        if (o.CpusetCpus != null)
        {
            if (o.CpusetCpus.Length > 0 && !CpusetPattern().IsMatch(o.CpusetCpus))
                throw new InvalidInputException($"Invalid value {o.CpusetCpus} for cpuset cpus");
            h.CpusetCpus = o.CpusetCpus;
        }
        if (o.CpusetMems != null)
        {
            if (o.CpusetMems.Length > 0 && !CpusetPattern().IsMatch(o.CpusetMems))
                throw new InvalidInputException($"Invalid value {o.CpusetMems} for cpuset mems");
            h.CpusetMems = o.CpusetMems;
        }
        if (o.PidsLimit != null)
        {
            long pids = Flags.ParseLong(o.PidsLimit, "--pids-limit");
            // Docker: 0 and -1 both mean unlimited.
            h.PidsLimit = pids > 0 ? pids : null;
        }
        if (o.BlkioWeight != null)
        {
            h.BlkioWeight = Flags.ParseInt(o.BlkioWeight, "--blkio-weight");
            if (h.BlkioWeight != 0 && h.BlkioWeight is < 10 or > 1000)
                throw new InvalidInputException("Range of blkio weight is from 10 to 1000");
        }

        if (o.Devices.Count > 0)
            h.Devices = o.Devices.Select(Flags.ParseDevice).ToList();

        if (o.Ulimits.Count > 0)
        {
            var byName = new Dictionary<string, Ulimit>(StringComparer.Ordinal);
            foreach (var u in o.Ulimits)
            {
                var parsed = Flags.ParseUlimit(u);
                byName[parsed.Name] = parsed;
            }
            h.Ulimits = byName.Values.ToList();
        }

        if (o.Sysctls.Count > 0)
        {
            var sysctls = Flags.ParseKeyValues(o.Sysctls, "--sysctl", valueRequired: true);
            foreach (var (k, _) in sysctls)
                Sysctls.Validate(k, network == "host");
            h.Sysctls = sysctls;
        }

        if (o.Tmpfs.Count > 0)
        {
            h.Tmpfs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var t in o.Tmpfs)
            {
                var (dst, opts) = Flags.ParseTmpfs(t);
                if (!h.Tmpfs.TryAdd(dst, opts))
                    throw new InvalidInputException($"Duplicate mount point: {dst}");
            }
        }

        h.SecurityOpt = ParseSecurityOpts(o.SecurityOpt);

        var binds = new List<string>();
        foreach (var v in o.Volumes)
        {
            var spec = Flags.ParseVolume(v);
            if (spec.Source != null)
                binds.Add(v);
        }
        h.Binds = binds.Count > 0 ? binds : null;
        return h;
    }

    /// <summary>
    /// Validates --security-opt. As the Docker CLI does, "seccomp=FILE" is replaced by
    /// "seccomp=&lt;the file's JSON&gt;" so the record does not depend on the file staying around.
    /// </summary>
    private static List<string>? ParseSecurityOpts(List<string> opts)
    {
        if (opts.Count == 0)
            return null;
        var result = new List<string>();
        foreach (var raw in opts)
        {
            var o = raw;
            // Docker accepts both "key=value" and the older "key:value".
            int sep = o.IndexOfAny(['=', ':']);
            var key = sep < 0 ? o : o[..sep];
            var value = sep < 0 ? "" : o[(sep + 1)..];
            switch (key)
            {
                case "no-new-privileges":
                    if (sep >= 0 && value is not ("true" or "false"))
                        throw new InvalidInputException($"invalid --security-opt 2: \"{raw}\"");
                    result.Add(sep < 0 ? "no-new-privileges" : "no-new-privileges=" + value);
                    break;
                case "seccomp" when sep >= 0:
                    if (value == "unconfined")
                    {
                        result.Add("seccomp=unconfined");
                        break;
                    }
                    string json;
                    try
                    {
                        json = File.ReadAllText(value);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new InvalidInputException($"opening seccomp profile ({value}) failed: {e.Message}");
                    }
                    try
                    {
                        using var doc = JsonDocument.Parse(json);
                        using var ms = new MemoryStream();
                        using (var w = new Utf8JsonWriter(ms))
                            doc.WriteTo(w);
                        json = System.Text.Encoding.UTF8.GetString(ms.ToArray());
                    }
                    catch (JsonException e)
                    {
                        throw new InvalidInputException($"compacting json for seccomp profile ({value}) failed: {e.Message}");
                    }
                    result.Add("seccomp=" + json);
                    break;
                case "apparmor" or "label" when sep >= 0:
                    // No AppArmor or SELinux confinement in hivelet: accepted so compose files keep working.
                    result.Add(key + "=" + value);
                    break;
                default:
                    throw new InvalidInputException($"invalid --security-opt: \"{raw}\"");
            }
        }
        return result;
    }

    private static List<MountPoint> BuildMounts(RunOptions o, ContainerConfig img, HostConfig host, VolumeStore volumes)
    {
        var specs = o.Volumes.Select(Flags.ParseVolume).ToList();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in specs)
        {
            if (!taken.Add(s.Destination) || (host.Tmpfs?.ContainsKey(s.Destination) ?? false))
                throw new InvalidInputException($"Duplicate mount point: {s.Destination}");
        }
        foreach (var t in host.Tmpfs?.Keys ?? Enumerable.Empty<string>())
            taken.Add(t);

        var mounts = new List<MountPoint>();
        foreach (var s in specs)
        {
            if (s.IsBind)
            {
                // Like `docker run -v`, a missing host directory is created.
                if (!Directory.Exists(s.Source) && !File.Exists(s.Source))
                    Directory.CreateDirectory(s.Source!);
                mounts.Add(new MountPoint
                {
                    Type = "bind",
                    Source = s.Source!,
                    Destination = s.Destination,
                    Mode = s.ReadOnly ? "ro" : "",
                    RW = !s.ReadOnly,
                });
                continue;
            }
            var v = s.IsAnonymous ? volumes.CreateAnonymous() : volumes.Create(s.Source!);
            mounts.Add(new MountPoint
            {
                Type = "volume",
                Name = v.Name,
                Source = v.Mountpoint,
                Destination = s.Destination,
                Driver = "local",
                Mode = (s.ReadOnly ? "ro" : "z") + (s.NoCopy ? ",nocopy" : ""),
                RW = !s.ReadOnly,
                Propagation = "",
                Anonymous = s.IsAnonymous,
            });
        }
        // The image's VOLUMEs not covered by a -v or --tmpfs get anonymous volumes (sorted: stable order).
        foreach (var path in (img.Volumes?.Keys ?? Enumerable.Empty<string>()).Select(Flags.CleanPath).Distinct().Order(StringComparer.Ordinal))
        {
            if (taken.Contains(path))
                continue;
            var v = volumes.CreateAnonymous();
            mounts.Add(new MountPoint
            {
                Type = "volume",
                Name = v.Name,
                Source = v.Mountpoint,
                Destination = path,
                Driver = "local",
                Mode = "",
                RW = true,
                Propagation = "",
                Anonymous = true,
            });
        }
        return mounts;
    }
}
