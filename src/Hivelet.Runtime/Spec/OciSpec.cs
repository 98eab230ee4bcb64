using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hivelet.Runtime.Spec;

// The subset of the OCI runtime-spec (config.md, config-linux.md) that describes what hivelet does.
// Written to BUNDLE/config.json for people and tools; the native side reads the plan, not this.

public sealed class OciSpec
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = "1.2.0";
    [JsonPropertyName("process")] public OciProcess Process { get; set; } = new();
    [JsonPropertyName("root")] public OciRoot Root { get; set; } = new();
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("mounts")] public List<OciMount> Mounts { get; set; } = [];
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("linux")] public OciLinux Linux { get; set; } = new();
}

public sealed class OciProcess
{
    [JsonPropertyName("terminal")] public bool Terminal { get; set; }
    [JsonPropertyName("user")] public OciUser User { get; set; } = new();
    [JsonPropertyName("args")] public List<string> Args { get; set; } = [];
    [JsonPropertyName("env")] public List<string> Env { get; set; } = [];
    [JsonPropertyName("cwd")] public string Cwd { get; set; } = "/";
    [JsonPropertyName("capabilities")] public OciCapabilities Capabilities { get; set; } = new();
    [JsonPropertyName("rlimits")] public List<OciRlimit>? Rlimits { get; set; }
    [JsonPropertyName("noNewPrivileges")] public bool NoNewPrivileges { get; set; }
    [JsonPropertyName("oomScoreAdj")] public int? OomScoreAdj { get; set; }
}

public sealed class OciUser
{
    [JsonPropertyName("uid")] public uint Uid { get; set; }
    [JsonPropertyName("gid")] public uint Gid { get; set; }
    [JsonPropertyName("additionalGids")] public List<uint>? AdditionalGids { get; set; }
}

public sealed class OciCapabilities
{
    [JsonPropertyName("bounding")] public List<string> Bounding { get; set; } = [];
    [JsonPropertyName("effective")] public List<string> Effective { get; set; } = [];
    [JsonPropertyName("permitted")] public List<string> Permitted { get; set; } = [];
}

public sealed class OciRlimit
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("hard")] public ulong Hard { get; set; }
    [JsonPropertyName("soft")] public ulong Soft { get; set; }
}

public sealed class OciRoot
{
    [JsonPropertyName("path")] public string Path { get; set; } = "rootfs";
    [JsonPropertyName("readonly")] public bool Readonly { get; set; }
}

public sealed class OciMount
{
    [JsonPropertyName("destination")] public string Destination { get; set; } = "";
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("source")] public string Source { get; set; } = "";
    [JsonPropertyName("options")] public List<string> Options { get; set; } = [];
}

public sealed class OciLinux
{
    [JsonPropertyName("namespaces")] public List<OciNamespace> Namespaces { get; set; } = [];
    [JsonPropertyName("resources")] public OciResources Resources { get; set; } = new();
    [JsonPropertyName("cgroupsPath")] public string? CgroupsPath { get; set; }
    [JsonPropertyName("devices")] public List<OciDevice> Devices { get; set; } = [];
    [JsonPropertyName("sysctl")] public Dictionary<string, string>? Sysctl { get; set; }
    [JsonPropertyName("maskedPaths")] public List<string>? MaskedPaths { get; set; }
    [JsonPropertyName("readonlyPaths")] public List<string>? ReadonlyPaths { get; set; }
}

public sealed class OciNamespace
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
}

public sealed class OciResources
{
    [JsonPropertyName("devices")] public List<OciDeviceRule> Devices { get; set; } = [];
    [JsonPropertyName("memory")] public OciMemory? Memory { get; set; }
    [JsonPropertyName("cpu")] public OciCpu? Cpu { get; set; }
    [JsonPropertyName("pids")] public OciPids? Pids { get; set; }
    [JsonPropertyName("blockIO")] public OciBlockIo? BlockIO { get; set; }
}

public sealed class OciDeviceRule
{
    [JsonPropertyName("allow")] public bool Allow { get; set; }
    [JsonPropertyName("type")] public string Type { get; set; } = "a";
    [JsonPropertyName("major")] public long? Major { get; set; }
    [JsonPropertyName("minor")] public long? Minor { get; set; }
    [JsonPropertyName("access")] public string Access { get; set; } = "rwm";
}

public sealed class OciMemory
{
    [JsonPropertyName("limit")] public long? Limit { get; set; }
    [JsonPropertyName("swap")] public long? Swap { get; set; }
}

public sealed class OciCpu
{
    [JsonPropertyName("shares")] public ulong? Shares { get; set; }
    [JsonPropertyName("quota")] public long? Quota { get; set; }
    [JsonPropertyName("period")] public ulong? Period { get; set; }
    [JsonPropertyName("cpus")] public string? Cpus { get; set; }
    [JsonPropertyName("mems")] public string? Mems { get; set; }
}

public sealed class OciPids
{
    [JsonPropertyName("limit")] public long Limit { get; set; }
}

public sealed class OciBlockIo
{
    [JsonPropertyName("weight")] public ushort? Weight { get; set; }
}

public sealed class OciDevice
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("type")] public string Type { get; set; } = "c";
    [JsonPropertyName("major")] public long Major { get; set; }
    [JsonPropertyName("minor")] public long Minor { get; set; }
    [JsonPropertyName("fileMode")] public uint FileMode { get; set; }
    [JsonPropertyName("uid")] public uint Uid { get; set; }
    [JsonPropertyName("gid")] public uint Gid { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciSpec))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class SpecJsonContext : JsonSerializerContext;
