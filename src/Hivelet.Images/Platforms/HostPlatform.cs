using System.Runtime.InteropServices;
using Hivelet.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Platforms;

/// <summary>
/// The platform this process can run, as containerd's platforms.DefaultSpec computes it: the
/// process architecture (not the kernel's: a 32-bit userland on a 64-bit kernel must pick arm
/// images) plus, on ARM, the variant read from /proc/cpuinfo.
/// </summary>
public static class HostPlatform
{
    public const string CpuInfoPath = "/proc/cpuinfo";

    public static PlatformSpec Detect(ILogger? logger = null)
    {
        string? cpuInfo = null;
        try
        {
            cpuInfo = File.ReadAllText(CpuInfoPath);
        }
        catch (IOException)
        {
            // No /proc (some chroots): the architecture alone still gives a usable answer.
        }
        catch (UnauthorizedAccessException)
        {
        }
        var spec = Detect(cpuInfo, RuntimeInformation.ProcessArchitecture, RuntimeInformation.OSArchitecture);
        PlatformLog.HostPlatformDetected(logger ?? NullLogger.Instance, spec.ToString(), cpuInfo is not null);
        return spec;
    }

    /// <summary>
    /// The pure part of <see cref="Detect(ILogger?)"/>: <paramref name="cpuInfo"/> is the text of
    /// /proc/cpuinfo or null; <paramref name="osArchitecture"/> stands in for uname's machine
    /// when cpuinfo has no "CPU architecture" line (qemu-user emulation).
    /// </summary>
    public static PlatformSpec Detect(string? cpuInfo, Architecture processArchitecture, Architecture osArchitecture)
    {
        switch (processArchitecture)
        {
            case Architecture.X64:
                return PlatformSpec.Create(PlatformSpec.Linux, "amd64");
            case Architecture.X86:
                return PlatformSpec.Create(PlatformSpec.Linux, "386");
            case Architecture.Arm64:
                // Every arm64 CPU implements v8; cpuinfo reports 8 even on v9 cores, so nothing to read.
                return PlatformSpec.Create(PlatformSpec.Linux, "arm64", "v8");
            case Architecture.Armv6:
                return PlatformSpec.Create(PlatformSpec.Linux, "arm", "v6");
            case Architecture.Arm:
                return PlatformSpec.Create(PlatformSpec.Linux, "arm", ArmVariant(cpuInfo, osArchitecture));
            case Architecture.Ppc64le:
                return PlatformSpec.Create(PlatformSpec.Linux, "ppc64le");
            case Architecture.S390x:
                return PlatformSpec.Create(PlatformSpec.Linux, "s390x");
            case Architecture.RiscV64:
                return PlatformSpec.Create(PlatformSpec.Linux, "riscv64");
            case Architecture.LoongArch64:
                return PlatformSpec.Create(PlatformSpec.Linux, "loong64");
            default:
                throw new HiveletException($"detect host platform: unsupported process architecture {processArchitecture}");
        }
    }

    /// <summary>The variant of a 32-bit ARM host: "v5" … "v8".</summary>
    internal static string ArmVariant(string? cpuInfo, Architecture osArchitecture)
    {
        var variant = VariantFromCpuArchitecture(Field(cpuInfo, "CPU architecture"));
        variant ??= osArchitecture == Architecture.Arm64 ? "v8" : "v7";
        // Raspberry Pi 1 and Zero (ARM1176) report "CPU architecture: 7" but cannot run ARMv7 code.
        if (variant == "v7" &&
            Field(cpuInfo, "model name")?.StartsWith("ARMv6-compatible", StringComparison.OrdinalIgnoreCase) == true)
            variant = "v6";
        return variant;
    }

    /// <summary>containerd's getCPUVariantFromArch; null for an absent or unknown value.</summary>
    internal static string? VariantFromCpuArchitecture(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        return value switch
        {
            "8" or "AArch64" or "aarch64" => "v8",
            // "?(12)".."?(17)" are the kernel's placeholder names past 7M; containerd counts them as v7.
            "7" or "7M" or "?(12)" or "?(13)" or "?(14)" or "?(15)" or "?(16)" or "?(17)" => "v7",
            "6" or "6TEJ" => "v6",
            "4" or "4T" => "v4",
            "3" => "v3",
            _ when value.StartsWith('5') => "v5",
            _ => null,
        };
    }

    /// <summary>The value of the first "key : value" line whose key matches, case-insensitively.</summary>
    internal static string? Field(string? cpuInfo, string key)
    {
        if (cpuInfo is null)
            return null;
        foreach (var line in cpuInfo.AsSpan().EnumerateLines())
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
                continue;
            if (line[..colon].Trim().Equals(key, StringComparison.OrdinalIgnoreCase))
                return line[(colon + 1)..].Trim().ToString();
        }
        return null;
    }
}
