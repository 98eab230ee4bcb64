using System.CommandLine;
using Hivelet.Runtime.Spec;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>The flags `run` and `create` share, with Docker's names and short forms, collected into <see cref="RunOptions"/>.</summary>
internal sealed class RunFlags
{
    public Argument<string> Image { get; } = new("IMAGE") { Description = "Image to run" };
    public Argument<string[]> Command { get; } = new("COMMAND") { Arity = ArgumentArity.ZeroOrMore, Description = "Command and arguments" };

    private readonly Option<string?> _name = new("--name") { Description = "Assign a name to the container" };
    private readonly Option<string?> _platform = CommandHelpers.PlatformOption();
    private readonly Option<string?> _entrypoint = new("--entrypoint") { Description = "Overwrite the default ENTRYPOINT of the image" };
    private readonly Option<string[]> _env = Many("--env", "Set environment variables", "-e");
    private readonly Option<string[]> _envFile = Many("--env-file", "Read in a file of environment variables");
    private readonly Option<string?> _workdir = new("--workdir", "-w") { Description = "Working directory inside the container" };
    private readonly Option<string?> _user = new("--user", "-u") { Description = "Username or UID (format: <name|uid>[:<group|gid>])" };
    private readonly Option<string?> _hostname = new("--hostname") { Description = "Container host name (-h)" };
    private readonly Option<bool> _tty = new("--tty", "-t") { Description = "Allocate a pseudo-TTY" };
    private readonly Option<bool> _interactive = new("--interactive", "-i") { Description = "Keep STDIN open even if not attached" };
    private readonly Option<bool> _rm = new("--rm") { Description = "Automatically remove the container when it exits" };
    private readonly Option<bool> _readOnly = new("--read-only") { Description = "Mount the container's root filesystem as read only" };
    private readonly Option<string[]> _tmpfs = Many("--tmpfs", "Mount a tmpfs directory");
    private readonly Option<string[]> _volume = Many("--volume", "Bind mount a volume", "-v");
    private readonly Option<string[]> _label = Many("--label", "Set meta data on a container", "-l");
    private readonly Option<string?> _stopSignal = new("--stop-signal") { Description = "Signal to stop the container" };
    private readonly Option<string?> _stopTimeout = new("--stop-timeout") { Description = "Timeout (in seconds) to stop a container" };
    private readonly Option<string?> _restart = new("--restart") { Description = "Restart policy to apply when a container exits (no, always, unless-stopped, on-failure[:N])" };
    private readonly Option<string?> _memory = new("--memory", "-m") { Description = "Memory limit" };
    private readonly Option<string?> _memorySwap = new("--memory-swap") { Description = "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" };
    private readonly Option<string?> _cpus = new("--cpus") { Description = "Number of CPUs" };
    private readonly Option<string?> _cpuShares = new("--cpu-shares", "-c") { Description = "CPU shares (relative weight)" };
    private readonly Option<string?> _cpusetCpus = new("--cpuset-cpus") { Description = "CPUs in which to allow execution (0-3, 0,1)" };
    private readonly Option<string?> _cpusetMems = new("--cpuset-mems") { Description = "MEMs in which to allow execution (0-3, 0,1)" };
    private readonly Option<string?> _pidsLimit = new("--pids-limit") { Description = "Tune container pids limit (set -1 for unlimited)" };
    private readonly Option<string?> _blkioWeight = new("--blkio-weight") { Description = "Block IO (relative weight), between 10 and 1000" };
    private readonly Option<string[]> _capAdd = Many("--cap-add", "Add Linux capabilities");
    private readonly Option<string[]> _capDrop = Many("--cap-drop", "Drop Linux capabilities");
    private readonly Option<bool> _privileged = new("--privileged") { Description = "Give extended privileges to this container" };
    private readonly Option<string[]> _securityOpt = Many("--security-opt", "Security Options");
    private readonly Option<string[]> _ulimit = Many("--ulimit", "Ulimit options");
    private readonly Option<string?> _oomScoreAdj = new("--oom-score-adj") { Description = "Tune host's OOM preferences (-1000 to 1000)" };
    private readonly Option<string?> _shmSize = new("--shm-size") { Description = "Size of /dev/shm" };
    private readonly Option<string[]> _device = Many("--device", "Add a host device to the container");
    private readonly Option<string[]> _groupAdd = Many("--group-add", "Add additional groups to join");
    private readonly Option<string[]> _sysctl = Many("--sysctl", "Sysctl options");
    private readonly Option<string?> _network = new("--network", "--net") { Description = "Connect a container to a network (none, host)" };
    private readonly Option<bool> _init = new("--init") { Description = "Run an init inside the container that forwards signals and reaps processes" };
    private readonly Option<string?> _healthCmd = new("--health-cmd") { Description = "Command to run to check health" };
    private readonly Option<string?> _healthInterval = new("--health-interval") { Description = "Time between running the check (ms|s|m|h)" };
    private readonly Option<string?> _healthTimeout = new("--health-timeout") { Description = "Maximum time to allow one check to run (ms|s|m|h)" };
    private readonly Option<string?> _healthRetries = new("--health-retries") { Description = "Consecutive failures needed to report unhealthy" };
    private readonly Option<string?> _healthStartPeriod = new("--health-start-period") { Description = "Start period for the container to initialize (ms|s|m|h)" };
    private readonly Option<bool> _noHealthcheck = new("--no-healthcheck") { Description = "Disable any container-specified HEALTHCHECK" };
    private readonly Option<string[]> _logOpt = Many("--log-opt", "Log driver options (max-size, max-file)");
    public Option<string> Pull { get; } = new("--pull") { Description = "Pull image before running (always, missing, never)", DefaultValueFactory = _ => "missing" };

    /// <summary>Options that take a value: the run/create argument splitter must know them.</summary>
    public static readonly HashSet<string> BooleanFlags =
    [
        "--tty", "-t", "--interactive", "-i", "--rm", "--read-only", "--privileged", "--init", "--no-healthcheck",
        "--detach", "-d", "--help", "-?", "--sig-proxy", "--quiet", "-q",
    ];

    private static Option<string[]> Many(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description, Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[]
                 {
                     _name, _platform, _entrypoint, _env, _envFile, _workdir, _user, _hostname, _tty, _interactive, _rm,
                     _readOnly, _tmpfs, _volume, _label, _stopSignal, _stopTimeout, _restart, _memory, _memorySwap, _cpus,
                     _cpuShares, _cpusetCpus, _cpusetMems, _pidsLimit, _blkioWeight, _capAdd, _capDrop, _privileged,
                     _securityOpt, _ulimit, _oomScoreAdj, _shmSize, _device, _groupAdd, _sysctl, _network, _init,
                     _healthCmd, _healthInterval, _healthTimeout, _healthRetries, _healthStartPeriod, _noHealthcheck,
                     _logOpt, Pull,
                 })
        {
            cmd.Options.Add(o);
        }
        cmd.Arguments.Add(Image);
        cmd.Arguments.Add(Command);
    }

    public RunOptions Collect(ParseResult p, bool detach) => new()
    {
        Name = p.GetValue(_name),
        Image = p.GetValue(Image)!,
        Platform = p.GetValue(_platform),
        Command = [.. p.GetValue(Command) ?? []],
        Entrypoint = p.GetValue(_entrypoint),
        Env = [.. p.GetValue(_env) ?? []],
        EnvFiles = [.. p.GetValue(_envFile) ?? []],
        Workdir = p.GetValue(_workdir),
        User = p.GetValue(_user),
        Hostname = p.GetValue(_hostname),
        Tty = p.GetValue(_tty),
        Interactive = p.GetValue(_interactive),
        Detach = detach,
        AutoRemove = p.GetValue(_rm),
        ReadOnly = p.GetValue(_readOnly),
        Tmpfs = [.. p.GetValue(_tmpfs) ?? []],
        Volumes = [.. p.GetValue(_volume) ?? []],
        Labels = [.. p.GetValue(_label) ?? []],
        StopSignal = p.GetValue(_stopSignal),
        StopTimeout = p.GetValue(_stopTimeout),
        Restart = p.GetValue(_restart),
        Memory = p.GetValue(_memory),
        MemorySwap = p.GetValue(_memorySwap),
        Cpus = p.GetValue(_cpus),
        CpuShares = p.GetValue(_cpuShares),
        CpusetCpus = p.GetValue(_cpusetCpus),
        CpusetMems = p.GetValue(_cpusetMems),
        PidsLimit = p.GetValue(_pidsLimit),
        BlkioWeight = p.GetValue(_blkioWeight),
        CapAdd = [.. p.GetValue(_capAdd) ?? []],
        CapDrop = [.. p.GetValue(_capDrop) ?? []],
        Privileged = p.GetValue(_privileged),
        SecurityOpt = [.. p.GetValue(_securityOpt) ?? []],
        Ulimits = [.. p.GetValue(_ulimit) ?? []],
        OomScoreAdj = p.GetValue(_oomScoreAdj),
        ShmSize = p.GetValue(_shmSize),
        Devices = [.. p.GetValue(_device) ?? []],
        GroupAdd = [.. p.GetValue(_groupAdd) ?? []],
        Sysctls = [.. p.GetValue(_sysctl) ?? []],
        Network = p.GetValue(_network),
        Init = p.GetValue(_init),
        HealthCmd = p.GetValue(_healthCmd),
        HealthInterval = p.GetValue(_healthInterval),
        HealthTimeout = p.GetValue(_healthTimeout),
        HealthRetries = p.GetValue(_healthRetries),
        HealthStartPeriod = p.GetValue(_healthStartPeriod),
        NoHealthcheck = p.GetValue(_noHealthcheck),
        LogOpts = [.. p.GetValue(_logOpt) ?? []],
    };
}

/// <summary>Which run/create flags take the next argument as their value (for <see cref="CommandArguments"/>).</summary>
public static class RunArguments
{
    /// <summary>run's `-h` is --hostname (help elsewhere).</summary>
    public static readonly IReadOnlyDictionary<string, string> Renames = new Dictionary<string, string> { ["-h"] = "--hostname" };

    public static bool TakesValue(string a)
    {
        if (a.StartsWith("--", StringComparison.Ordinal))
            return !a.Contains('=', StringComparison.Ordinal) && !RunFlags.BooleanFlags.Contains(a);
        // "-it", "-dit": bundled booleans; "-e" and "-ie" take the next argument; "-eFOO=1" carries its value.
        var letters = a[1..];
        for (int k = 0; k < letters.Length; k++)
        {
            if (!RunFlags.BooleanFlags.Contains("-" + letters[k]))
                return k == letters.Length - 1;
        }
        return false;
    }
}
