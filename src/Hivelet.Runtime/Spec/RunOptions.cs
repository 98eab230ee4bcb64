namespace Hivelet.Runtime.Spec;

/// <summary>
/// The raw values of Docker's run/create flags as the CLI collects them: strings as the user typed
/// them, null = flag not given. <see cref="ContainerFactory.Create"/> validates and converts them.
/// </summary>
public sealed class RunOptions
{
    public string? Name { get; set; }
    public string Image { get; set; } = "";
    public string? Platform { get; set; }

    /// <summary>Arguments after the image: replace the image's Cmd when not empty.</summary>
    public List<string> Command { get; set; } = [];

    /// <summary>--entrypoint; "" clears the image's entrypoint, null keeps it.</summary>
    public string? Entrypoint { get; set; }

    public List<string> Env { get; set; } = [];
    public List<string> EnvFiles { get; set; } = [];
    public string? Workdir { get; set; }
    public string? User { get; set; }
    public string? Hostname { get; set; }
    public bool Tty { get; set; }
    public bool Interactive { get; set; }
    public bool Detach { get; set; }
    public bool AutoRemove { get; set; }
    public bool ReadOnly { get; set; }

    /// <summary>--tmpfs "/run" or "/run:rw,size=64m".</summary>
    public List<string> Tmpfs { get; set; } = [];

    /// <summary>-v "SRC:DST[:ro|rw]" (SRC an absolute host path or a volume name) or "DST" (anonymous).</summary>
    public List<string> Volumes { get; set; } = [];

    /// <summary>--label "k=v" or "k".</summary>
    public List<string> Labels { get; set; } = [];

    public string? StopSignal { get; set; }

    /// <summary>--stop-timeout in seconds (-1 = wait forever).</summary>
    public string? StopTimeout { get; set; }

    /// <summary>no | always | unless-stopped | on-failure[:N].</summary>
    public string? Restart { get; set; }

    public string? Memory { get; set; }
    public string? MemorySwap { get; set; }
    public string? Cpus { get; set; }
    public string? CpuShares { get; set; }
    public string? CpusetCpus { get; set; }
    public string? CpusetMems { get; set; }
    public string? PidsLimit { get; set; }
    public string? BlkioWeight { get; set; }
    public List<string> CapAdd { get; set; } = [];
    public List<string> CapDrop { get; set; } = [];
    public bool Privileged { get; set; }

    /// <summary>--security-opt: seccomp=unconfined|FILE, no-new-privileges[:true|false].</summary>
    public List<string> SecurityOpt { get; set; } = [];

    /// <summary>--ulimit "nofile=1024:2048".</summary>
    public List<string> Ulimits { get; set; } = [];

    public string? OomScoreAdj { get; set; }
    public string? ShmSize { get; set; }

    /// <summary>--device "HOST[:CONTAINER][:rwm]".</summary>
    public List<string> Devices { get; set; } = [];

    public List<string> GroupAdd { get; set; } = [];

    /// <summary>--sysctl "name=value".</summary>
    public List<string> Sysctls { get; set; } = [];

    /// <summary>none (default) or host.</summary>
    public string? Network { get; set; }

    public bool Init { get; set; }
    public string? HealthCmd { get; set; }
    public string? HealthInterval { get; set; }
    public string? HealthTimeout { get; set; }
    public string? HealthRetries { get; set; }
    public string? HealthStartPeriod { get; set; }
    public bool NoHealthcheck { get; set; }

    /// <summary>--log-opt "max-size=10m", "max-file=3".</summary>
    public List<string> LogOpts { get; set; } = [];
}

/// <summary>The flags of `exec`.</summary>
public sealed class ExecOptions
{
    public List<string> Command { get; set; } = [];

    /// <summary>-e "NAME=VALUE" or "NAME" (taken from the caller's environment when set).</summary>
    public List<string> Env { get; set; } = [];

    /// <summary>-u user[:group]; null = the container's user.</summary>
    public string? User { get; set; }

    /// <summary>-w; null = the container's working directory.</summary>
    public string? Workdir { get; set; }

    public bool Tty { get; set; }
    public bool Interactive { get; set; }
    public bool Privileged { get; set; }
}
