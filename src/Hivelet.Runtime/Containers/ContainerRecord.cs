using System.Text.Json.Serialization;
using Hivelet.Images.Oci;

namespace Hivelet.Runtime.Containers;

/// <summary>
/// What hivelet knows about one container, stored as BUNDLE/container.json by the managed side only
/// (the monitor writes BUNDLE/status). Property names follow `docker inspect`, so inspect output is
/// mostly this record plus the live state.
/// </summary>
public sealed class ContainerRecord
{
    [JsonPropertyName("Id")] public string Id { get; set; } = "";
    [JsonPropertyName("Name")] public string Name { get; set; } = "";
    [JsonPropertyName("Created")] public DateTimeOffset Created { get; set; }

    /// <summary>The reference the user gave (e.g. "busybox"), as Docker's Config.Image.</summary>
    [JsonPropertyName("ImageRef")] public string ImageRef { get; set; } = "";

    /// <summary>The image's config digest ("sha256:..."), Docker's Image.</summary>
    [JsonPropertyName("Image")] public string Image { get; set; } = "";

    /// <summary>Chain ID of the image's top layer: the snapshot the container sits on (null: no layers).</summary>
    [JsonPropertyName("TopChainId")] public string? TopChainId { get; set; }

    [JsonPropertyName("Platform")] public string Platform { get; set; } = "linux";
    [JsonPropertyName("Architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("Driver")] public string Driver { get; set; } = "";
    [JsonPropertyName("Path")] public string Path { get; set; } = "";
    [JsonPropertyName("Args")] public List<string> Args { get; set; } = [];
    [JsonPropertyName("Config")] public RunConfig Config { get; set; } = new();
    [JsonPropertyName("HostConfig")] public HostConfig HostConfig { get; set; } = new();
    [JsonPropertyName("Mounts")] public List<MountPoint> Mounts { get; set; } = [];

    /// <summary>Times the container was started by a user (not by its restart policy).</summary>
    [JsonPropertyName("StartCount")] public int StartCount { get; set; }
}

/// <summary>Docker's container Config: what runs.</summary>
public sealed class RunConfig
{
    [JsonPropertyName("Hostname")] public string Hostname { get; set; } = "";
    [JsonPropertyName("Domainname")] public string Domainname { get; set; } = "";
    [JsonPropertyName("User")] public string User { get; set; } = "";
    [JsonPropertyName("AttachStdin")] public bool AttachStdin { get; set; }
    [JsonPropertyName("AttachStdout")] public bool AttachStdout { get; set; }
    [JsonPropertyName("AttachStderr")] public bool AttachStderr { get; set; }
    [JsonPropertyName("Tty")] public bool Tty { get; set; }
    [JsonPropertyName("OpenStdin")] public bool OpenStdin { get; set; }
    [JsonPropertyName("StdinOnce")] public bool StdinOnce { get; set; }
    [JsonPropertyName("Env")] public List<string> Env { get; set; } = [];
    [JsonPropertyName("Cmd")] public List<string>? Cmd { get; set; }
    [JsonPropertyName("Healthcheck")] public HealthConfig? Healthcheck { get; set; }
    [JsonPropertyName("Image")] public string Image { get; set; } = "";
    [JsonPropertyName("Volumes")] public Dictionary<string, EmptyObject>? Volumes { get; set; }
    [JsonPropertyName("WorkingDir")] public string WorkingDir { get; set; } = "";
    [JsonPropertyName("Entrypoint")] public List<string>? Entrypoint { get; set; }
    [JsonPropertyName("Labels")] public Dictionary<string, string> Labels { get; set; } = [];
    [JsonPropertyName("StopSignal")] public string? StopSignal { get; set; }

    /// <summary>Seconds; null = Docker's default of 10.</summary>
    [JsonPropertyName("StopTimeout")] public int? StopTimeout { get; set; }
}

/// <summary>Serialises as {} (Docker's map-of-empty-objects for Volumes and ports).</summary>
public sealed class EmptyObject;

/// <summary>Docker's HostConfig: how it runs. Units as Docker's API (bytes, nano CPUs).</summary>
public sealed class HostConfig
{
    [JsonPropertyName("Binds")] public List<string>? Binds { get; set; }
    [JsonPropertyName("NetworkMode")] public string NetworkMode { get; set; } = "none";
    [JsonPropertyName("RestartPolicy")] public RestartPolicy RestartPolicy { get; set; } = new();
    [JsonPropertyName("AutoRemove")] public bool AutoRemove { get; set; }
    [JsonPropertyName("LogConfig")] public LogConfig LogConfig { get; set; } = new();
    [JsonPropertyName("CapAdd")] public List<string>? CapAdd { get; set; }
    [JsonPropertyName("CapDrop")] public List<string>? CapDrop { get; set; }
    [JsonPropertyName("GroupAdd")] public List<string>? GroupAdd { get; set; }
    [JsonPropertyName("OomScoreAdj")] public int OomScoreAdj { get; set; }
    [JsonPropertyName("Privileged")] public bool Privileged { get; set; }
    [JsonPropertyName("ReadonlyRootfs")] public bool ReadonlyRootfs { get; set; }
    [JsonPropertyName("SecurityOpt")] public List<string>? SecurityOpt { get; set; }
    [JsonPropertyName("Tmpfs")] public Dictionary<string, string>? Tmpfs { get; set; }
    [JsonPropertyName("ShmSize")] public long ShmSize { get; set; } = 64L * 1024 * 1024;
    [JsonPropertyName("Sysctls")] public Dictionary<string, string>? Sysctls { get; set; }
    [JsonPropertyName("Init")] public bool? Init { get; set; }
    [JsonPropertyName("Memory")] public long Memory { get; set; }
    [JsonPropertyName("MemorySwap")] public long MemorySwap { get; set; }
    [JsonPropertyName("NanoCpus")] public long NanoCpus { get; set; }
    [JsonPropertyName("CpuShares")] public long CpuShares { get; set; }
    [JsonPropertyName("CpusetCpus")] public string CpusetCpus { get; set; } = "";
    [JsonPropertyName("CpusetMems")] public string CpusetMems { get; set; } = "";
    [JsonPropertyName("PidsLimit")] public long? PidsLimit { get; set; }
    [JsonPropertyName("BlkioWeight")] public int BlkioWeight { get; set; }
    [JsonPropertyName("Devices")] public List<DeviceMapping>? Devices { get; set; }
    [JsonPropertyName("Ulimits")] public List<Ulimit>? Ulimits { get; set; }
}

public sealed class RestartPolicy
{
    /// <summary>"no", "always", "unless-stopped" or "on-failure".</summary>
    [JsonPropertyName("Name")] public string Name { get; set; } = "no";
    [JsonPropertyName("MaximumRetryCount")] public int MaximumRetryCount { get; set; }
}

public sealed class LogConfig
{
    [JsonPropertyName("Type")] public string Type { get; set; } = "json-file";
    [JsonPropertyName("Config")] public Dictionary<string, string> Config { get; set; } = [];
}

public sealed class DeviceMapping
{
    [JsonPropertyName("PathOnHost")] public string PathOnHost { get; set; } = "";
    [JsonPropertyName("PathInContainer")] public string PathInContainer { get; set; } = "";
    [JsonPropertyName("CgroupPermissions")] public string CgroupPermissions { get; set; } = "rwm";
}

public sealed class Ulimit
{
    [JsonPropertyName("Name")] public string Name { get; set; } = "";
    [JsonPropertyName("Soft")] public long Soft { get; set; }
    [JsonPropertyName("Hard")] public long Hard { get; set; }
}

/// <summary>A mount as `docker inspect` shows it under Mounts.</summary>
public sealed class MountPoint
{
    /// <summary>"bind", "volume" or "tmpfs".</summary>
    [JsonPropertyName("Type")] public string Type { get; set; } = "bind";
    [JsonPropertyName("Name")] public string? Name { get; set; }
    [JsonPropertyName("Source")] public string Source { get; set; } = "";
    [JsonPropertyName("Destination")] public string Destination { get; set; } = "";
    [JsonPropertyName("Driver")] public string? Driver { get; set; }
    [JsonPropertyName("Mode")] public string Mode { get; set; } = "";
    [JsonPropertyName("RW")] public bool RW { get; set; } = true;
    [JsonPropertyName("Propagation")] public string Propagation { get; set; } = "rprivate";

    /// <summary>True for an anonymous volume created for the image's VOLUME (removed by rm -v).</summary>
    [JsonPropertyName("Anonymous")] public bool Anonymous { get; set; }
}
