using System.Text.Json;
using Hivelet.Images.Oci;
using Hivelet.Runtime.Cgroups;

namespace Hivelet.Runtime.Tests.Spec;

/// <summary>A temporary directory removed with everything in it.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hivelet-spec-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string relative) => System.IO.Path.Combine(Path, relative);

    public string WriteFile(string relative, string content)
    {
        var p = Sub(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        File.WriteAllText(p, content);
        return p;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}

/// <summary>The group paths a cgroup manager would report; nothing is created on the host.</summary>
internal sealed class PathsOnlyCgroup(string id, params string[] procs) : ICgroup
{
    public string ContainerId => id;
    public IReadOnlyList<string> ProcsFiles => procs;
    public (string File, string Key)? OomCounter => ($"/sys/fs/cgroup/memory/hivelet/{id}/memory.oom_control", "oom_kill");
    public CgroupStats ReadStats() => throw new NotSupportedException();
    public IReadOnlyList<int> ReadPids() => throw new NotSupportedException();
    public void KillAll() => throw new NotSupportedException();
    public void Remove() => throw new NotSupportedException();
}

internal static class Images
{
    public const string Id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public static ImageConfig Make(List<string>? entrypoint = null, List<string>? cmd = null, List<string>? env = null,
        string? user = null, string? workdir = null, IEnumerable<string>? volumes = null, HealthConfig? health = null,
        Dictionary<string, string>? labels = null, string? stopSignal = null) =>
        new()
        {
            Architecture = "amd64",
            Os = "linux",
            Config = new ContainerConfig
            {
                Entrypoint = entrypoint,
                Cmd = cmd,
                Env = env,
                User = user,
                WorkingDir = workdir,
                Healthcheck = health,
                Labels = labels,
                StopSignal = stopSignal,
                Volumes = volumes?.ToDictionary(v => v, _ => JsonDocument.Parse("{}").RootElement.Clone()),
            },
        };

    public static Dictionary<string, List<string>> Decode(byte[] plan)
    {
        var map = new Dictionary<string, List<string>>();
        foreach (var (k, v) in Hivelet.Runtime.Spec.PlanWriter.Parse(plan))
        {
            if (!map.TryGetValue(k, out var list))
                map[k] = list = [];
            list.Add(v);
        }
        return map;
    }
}
