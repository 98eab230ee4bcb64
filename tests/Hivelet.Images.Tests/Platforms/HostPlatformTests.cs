using System.Runtime.InteropServices;
using Hivelet.Images.Platforms;

namespace Hivelet.Images.Tests.Platforms;

public sealed class HostPlatformTests
{
    // Samples in the kernel's format (arch/arm/kernel/setup.c c_show, arch/arm64/kernel/cpuinfo.c).
    private const string Pi1 = """
        processor	: 0
        model name	: ARMv6-compatible processor rev 7 (v6l)
        BogoMIPS	: 697.95
        Features	: half thumb fastmult vfp edsp java tls
        CPU implementer	: 0x41
        CPU architecture: 7
        CPU variant	: 0x0
        CPU part	: 0xb76
        CPU revision	: 7

        Hardware	: BCM2835
        Revision	: 900093
        Model		: Raspberry Pi Zero Rev 1.3
        """;

    private const string Pi3With32BitKernel = """
        processor	: 0
        model name	: ARMv7 Processor rev 4 (v7l)
        BogoMIPS	: 38.40
        Features	: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32
        CPU implementer	: 0x41
        CPU architecture: 7
        CPU variant	: 0x0
        CPU part	: 0xd03
        CPU revision	: 4

        processor	: 1
        model name	: ARMv7 Processor rev 4 (v7l)
        CPU architecture: 7

        Hardware	: BCM2835
        Model		: Raspberry Pi 3 Model B Rev 1.2
        """;

    private const string Pi4With64BitKernel = """
        processor	: 0
        BogoMIPS	: 108.00
        Features	: fp asimd evtstrm crc32 cpuid
        CPU implementer	: 0x41
        CPU architecture: 8
        CPU variant	: 0x0
        CPU part	: 0xd08
        CPU revision	: 3

        Hardware	: BCM2835
        Model		: Raspberry Pi 4 Model B Rev 1.4
        """;

    private const string X86 = """
        processor	: 0
        vendor_id	: AuthenticAMD
        cpu family	: 23
        model		: 49
        model name	: AMD EPYC 7B12
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sep
        """;

    [Theory]
    [InlineData(Pi1, Architecture.Arm, Architecture.Arm, "linux/arm/v6")]
    [InlineData(Pi1, Architecture.Armv6, Architecture.Arm, "linux/arm/v6")]
    [InlineData(Pi3With32BitKernel, Architecture.Arm, Architecture.Arm, "linux/arm/v7")]
    // 32-bit userland on a 64-bit kernel: the process decides, the kernel only says v8.
    [InlineData(Pi4With64BitKernel, Architecture.Arm, Architecture.Arm64, "linux/arm/v8")]
    [InlineData(Pi4With64BitKernel, Architecture.Arm64, Architecture.Arm64, "linux/arm64/v8")]
    [InlineData(X86, Architecture.X64, Architecture.X64, "linux/amd64")]
    [InlineData(X86, Architecture.X86, Architecture.X64, "linux/386")]
    [InlineData(null, Architecture.Arm, Architecture.Arm, "linux/arm/v7")]
    [InlineData(null, Architecture.Arm, Architecture.Arm64, "linux/arm/v8")]
    [InlineData(X86, Architecture.Arm, Architecture.Arm, "linux/arm/v7")]
    [InlineData("cpu architecture : 6\n", Architecture.Arm, Architecture.Arm, "linux/arm/v6")]
    [InlineData("CPU architecture: 5TEJ\n", Architecture.Arm, Architecture.Arm, "linux/arm/v5")]
    [InlineData(null, Architecture.RiscV64, Architecture.RiscV64, "linux/riscv64")]
    public void DetectsFromCpuInfoAndProcessArchitecture(string? cpuInfo, Architecture process, Architecture os, string expected) =>
        Assert.Equal(expected, HostPlatform.Detect(cpuInfo, process, os).ToString());

    [Theory]
    [InlineData("8", "v8")]
    [InlineData("AArch64", "v8")]
    [InlineData("7", "v7")]
    [InlineData("7M", "v7")]
    [InlineData("?(12)", "v7")]
    [InlineData("6", "v6")]
    [InlineData("6TEJ", "v6")]
    [InlineData("5TE", "v5")]
    [InlineData("4T", "v4")]
    [InlineData("x", null)]
    [InlineData("", null)]
    public void MapsKernelArchitectureNames(string value, string? variant) =>
        Assert.Equal(variant, HostPlatform.VariantFromCpuArchitecture(value));

    [Fact]
    public void ThisMachineIsDetectedLikeItsOwnCpuInfo()
    {
        string? cpuInfo = File.Exists(HostPlatform.CpuInfoPath) ? File.ReadAllText(HostPlatform.CpuInfoPath) : null;
        var expected = HostPlatform.Detect(cpuInfo, RuntimeInformation.ProcessArchitecture, RuntimeInformation.OSArchitecture);
        Assert.Equal(expected, HostPlatform.Detect());
        Assert.Equal("linux", expected.Os);
    }
}
