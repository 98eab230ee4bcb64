using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Errors;
using Hivelet.Runtime.Cgroups;
using Microsoft.Extensions.Logging;

namespace Hivelet.Cli.Commands.ContainerTools;

/// <summary>What `hivelet info --format json` prints (Docker's field names where Docker has one).</summary>
internal sealed class SystemInfo
{
    public int Containers { get; set; }
    public int ContainersRunning { get; set; }
    public int ContainersPaused { get; set; }
    public int ContainersStopped { get; set; }
    public int Images { get; set; }
    public string Driver { get; set; } = "";
    public string HiveletRootDir { get; set; } = "";
    public string CgroupDriver { get; set; } = "";
    public string CgroupVersion { get; set; } = "";
    public List<SystemInfoController> CgroupControllers { get; set; } = [];
    public bool SwapLimit { get; set; }
    public string KernelVersion { get; set; } = "";
    public string OperatingSystem { get; set; } = "";
    public string OSType { get; set; } = "linux";
    public string Architecture { get; set; } = "";
    public long PageSize { get; set; }
    public int NCPU { get; set; }
    public long MemTotal { get; set; }
    public bool Seccomp { get; set; }
    public bool Overlay { get; set; }
    public List<string> BinfmtMisc { get; set; } = [];
    public string ServerVersion { get; set; } = "";
}

internal sealed class SystemInfoController
{
    public string Name { get; set; } = "";
    public bool Present { get; set; }
    public string? Hint { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SystemInfo))]
internal sealed partial class SystemInfoJsonContext : JsonSerializerContext;

/// <summary>`hivelet info` / `hivelet system info`: the store, containers, cgroups and kernel features.</summary>
public static class InfoCommand
{
    public static Command Create(GlobalOptions globals, string name = "info")
    {
        var format = new Option<string?>("--format", "-f") { Description = "Format the output: \"json\" (the default is a readable list)" };
        var cmd = new Command(name, "Display system-wide information") { format };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var fmt = parse.GetValue(format);
            if (fmt is not null and not "json")
                throw new InvalidInputException($"info: unsupported --format \"{fmt}\": only \"json\" is supported");
            var info = Collect(services);
            if (fmt == "json")
                Console.WriteLine(JsonSerializer.Serialize(info, SystemInfoJsonContext.Default.SystemInfo));
            else
                WriteText(Console.Out, info);
            return Task.FromResult(0);
        });
        return cmd;
    }

    internal static SystemInfo Collect(HiveletServices services)
    {
        var info = new SystemInfo();
        var tools = new ToolServices(services);
        foreach (var record in tools.Store.List())
        {
            var state = tools.Live.Read(record);
            info.Containers++;
            if (state.Paused)
                info.ContainersPaused++;
            else if (state.Running)
                info.ContainersRunning++;
            else
                info.ContainersStopped++;
        }
        info.Images = services.Images.List().Count;
        info.Driver = services.Snapshots.Driver;
        info.HiveletRootDir = services.Root.Root;
        var probe = CgroupProbe.ForHost(services.LoggerFactory.CreateLogger("Hivelet.Cgroups"));
        info.CgroupDriver = probe.Driver;
        info.CgroupVersion = probe.Layout switch
        {
            CgroupLayout.Hybrid => "1 (hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified)",
            _ => probe.Version.ToString(CultureInfo.InvariantCulture),
        };
        info.CgroupControllers = probe.Controllers.Select(c => new SystemInfoController { Name = c.Name, Present = c.Present, Hint = c.Hint }).ToList();
        info.SwapLimit = probe.SwapAccounting;
        info.KernelVersion = ReadFirstLine("/proc/sys/kernel/osrelease") ?? "unknown";
        info.OperatingSystem = OsName();
        info.Architecture = Platforms.HostArch();
        info.PageSize = Environment.SystemPageSize;
        info.NCPU = Environment.ProcessorCount;
        info.MemTotal = MemTotal();
        info.Seccomp = File.Exists("/proc/sys/kernel/seccomp/actions_avail");
        info.Overlay = HasFilesystem("overlay");
        info.BinfmtMisc = BinfmtHandlers("/proc/sys/fs/binfmt_misc");
        info.ServerVersion = Version();
        return info;
    }

    internal static void WriteText(TextWriter o, SystemInfo i)
    {
        o.WriteLine($"Containers: {i.Containers}");
        o.WriteLine($" Running: {i.ContainersRunning}");
        o.WriteLine($" Paused: {i.ContainersPaused}");
        o.WriteLine($" Stopped: {i.ContainersStopped}");
        o.WriteLine($"Images: {i.Images}");
        o.WriteLine($"Server Version: {i.ServerVersion}");
        o.WriteLine($"Storage Driver: {i.Driver}");
        o.WriteLine($"Hivelet Root Dir: {i.HiveletRootDir}");
        o.WriteLine($"Cgroup Driver: {i.CgroupDriver}");
        o.WriteLine($"Cgroup Version: {i.CgroupVersion}");
        o.WriteLine("Cgroup Controllers:");
        foreach (var c in i.CgroupControllers)
            o.WriteLine(c.Present ? $" {c.Name}: present" : $" {c.Name}: missing ({c.Hint})");
        o.WriteLine($"Swap Limit: {(i.SwapLimit ? "yes" : "no")}");
        o.WriteLine($"Kernel Version: {i.KernelVersion}");
        o.WriteLine($"Operating System: {i.OperatingSystem}");
        o.WriteLine($"OSType: {i.OSType}");
        o.WriteLine($"Architecture: {i.Architecture}");
        o.WriteLine($"Page Size: {i.PageSize}");
        o.WriteLine($"CPUs: {i.NCPU}");
        o.WriteLine($"Total Memory: {FormatMemory(i.MemTotal)}");
        o.WriteLine($"Seccomp: {(i.Seccomp ? "supported" : "not supported")}");
        o.WriteLine($"Overlay: {(i.Overlay ? "supported" : "not supported")}");
        o.WriteLine($"Binfmt Misc: {(i.BinfmtMisc.Count == 0 ? "none" : string.Join(", ", i.BinfmtMisc))}");
    }

    /// <summary>Docker's binary-unit memory ("7.773GiB").</summary>
    internal static string FormatMemory(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double size = bytes;
        int u = 0;
        while (size >= 1024 && u < units.Length - 1)
        {
            size /= 1024;
            u++;
        }
        return size.ToString("0.###", CultureInfo.InvariantCulture) + units[u];
    }

    private static string? ReadFirstLine(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine()?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>PRETTY_NAME from /etc/os-release, else "Linux".</summary>
    private static string OsName()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/os-release"))
            {
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                    return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }
        catch (IOException)
        {
        }
        return "Linux";
    }

    /// <summary>MemTotal from /proc/meminfo in bytes (the file gives kB); 0 if unreadable.</summary>
    internal static long MemTotal(string path = "/proc/meminfo")
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
                    continue;
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                    return kb * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    private static bool HasFilesystem(string fs)
    {
        try
        {
            return File.ReadLines("/proc/filesystems").Any(l => l.Split('\t', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() == fs);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The registered binfmt_misc handlers (entries other than register and status).</summary>
    internal static List<string> BinfmtHandlers(string dir)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>()
                .Where(n => n is not "register" and not "status").Order(StringComparer.Ordinal).ToList();
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string Version()
    {
        var info = typeof(InfoCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = info.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? info[..plus] : info;
    }
}
