using System.Runtime.InteropServices;

namespace Hivelet.Runtime.Security;

/// <summary>The architectures hivelet compiles filters for (the kernel's AUDIT_ARCH_* of each).</summary>
public enum SeccompArch
{
    X86_64,
    Aarch64,
    Arm,
}

/// <summary>What a filter does with a system call.</summary>
internal enum SeccompActionKind
{
    Allow,
    Errno,
    KillThread,
    KillProcess,
    Trap,
    Trace,
    Log,
}

/// <summary>An action and its data (the errno for <see cref="SeccompActionKind.Errno"/>, the tracer's value for Trace).</summary>
internal readonly record struct SeccompAction(SeccompActionKind Kind, uint Data = 0)
{
    public static SeccompAction Allow => new(SeccompActionKind.Allow);

    public static SeccompAction Errno(int errno) => new(SeccompActionKind.Errno, (uint)errno);
}

/// <summary>libseccomp's comparison operators, with Docker's names (SCMP_CMP_*).</summary>
internal enum SeccompOp
{
    NotEqual,
    LessThan,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    GreaterThan,
    MaskedEqual,
}

/// <summary>
/// One argument test: argument <see cref="Index"/> (0-5, 64 bits) compared with <see cref="Value"/>;
/// for <see cref="SeccompOp.MaskedEqual"/>, (arg &amp; Value) == ValueTwo.
/// </summary>
internal readonly record struct SeccompArg(int Index, ulong Value, ulong ValueTwo, SeccompOp Op);

/// <summary>
/// When a rule applies: Docker's includes/excludes. <see cref="Caps"/> are capability numbers (-1 = a name
/// this build does not know, which no container holds); <see cref="Arches"/> are Go's GOARCH names ("amd64",
/// "arm64", "arm"), compared with the architecture the filter is compiled for, as dockerd compares them
/// with its own.
/// </summary>
internal sealed record SeccompFilterCondition(
    IReadOnlyList<int> Caps,
    IReadOnlyList<string> Arches,
    Version? MinKernel)
{
    public static readonly SeccompFilterCondition None = new([], [], null);

    public bool IsEmpty => Caps.Count == 0 && Arches.Count == 0 && MinKernel is null;
}

/// <summary>
/// One entry of a profile's syscalls[]: the names it covers, what to do, and the argument tests that must
/// all hold (libseccomp ANDs the args of one rule).
/// </summary>
internal sealed record SeccompRule(
    IReadOnlyList<string> Names,
    SeccompAction Action,
    IReadOnlyList<SeccompArg> Args,
    SeccompFilterCondition Includes,
    SeccompFilterCondition Excludes);

/// <summary>
/// A seccomp profile in Docker's model: a default action, the architectures it covers and a list of rules.
/// <see cref="Compile"/> turns it into a classic BPF program for one architecture and one capability set.
/// </summary>
public sealed partial class SeccompProfile
{
    internal SeccompProfile(
        SeccompAction defaultAction,
        IReadOnlyList<string> architectures,
        IReadOnlyDictionary<string, IReadOnlyList<string>> archMap,
        IReadOnlyList<SeccompRule> rules,
        string source)
    {
        DefaultAction = defaultAction;
        Architectures = architectures;
        ArchMap = archMap;
        Rules = rules;
        Source = source;
    }

    internal SeccompAction DefaultAction { get; }

    /// <summary>The profile's architectures[] (SCMP_ARCH_* names); empty = only the one compiled for.</summary>
    internal IReadOnlyList<string> Architectures { get; }

    /// <summary>The profile's archMap: SCMP_ARCH_* of a native architecture -> its subArchitectures.</summary>
    internal IReadOnlyDictionary<string, IReadOnlyList<string>> ArchMap { get; }

    internal IReadOnlyList<SeccompRule> Rules { get; }

    /// <summary>Where the profile came from (a file name, or "default"), for error messages.</summary>
    internal string Source { get; }

    /// <summary>The architecture of this process, which is the kernel's native one for the filters hivelet loads.</summary>
    public static SeccompArch HostArch => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => SeccompArch.X86_64,
        Architecture.Arm64 => SeccompArch.Aarch64,
        Architecture.Arm or Architecture.Armv6 => SeccompArch.Arm,
        var other => throw new PlatformNotSupportedException($"seccomp: unsupported architecture {other}"),
    };
}

public sealed partial class SeccompProfile
{
    /// <summary>
    /// Compiles the profile to a raw <c>struct sock_filter[]</c> (8 bytes each: u16 code, u8 jt, u8 jf, u32 k,
    /// little-endian) for <paramref name="arch"/>, resolving capability conditions against
    /// <paramref name="capabilities"/> (bit n = capability n, the container's bounding set) and minKernel
    /// conditions against the running kernel. The filter also covers the 32-bit ABI the profile's archMap
    /// lists for <paramref name="arch"/> (arm on aarch64, i386 on x86_64), so armhf images run on a 64-bit Pi;
    /// calls from any other ABI, x32 included, kill the process.
    /// </summary>
    public byte[] Compile(SeccompArch arch, ulong capabilities) => Compile(arch, capabilities, RunningKernel);

    internal byte[] Compile(SeccompArch arch, ulong capabilities, Version kernel)
    {
        var rules = Resolve(arch, capabilities, kernel);
        uint defaultRet = SeccompCompiler.Encode(DefaultAction);
        var sections = Abis(arch)
            .Select(abi => (abi, SeccompCompiler.PlanAbi(abi, rules, defaultRet)))
            .ToList();
        return SeccompCompiler.Emit(sections, defaultRet);
    }

    /// <summary>The kernel's version from uname(2) (what dockerd's minKernel checks compare with).</summary>
    internal static Version RunningKernel { get; } =
        ParseKernelVersion(Environment.OSVersion.Version.ToString()) ?? new Version(0, 0, 0);

    /// <summary>Docker's Go name of an architecture, which includes/excludes.arches compare with.</summary>
    internal static string GoArch(SeccompArch arch) => arch switch
    {
        SeccompArch.X86_64 => "amd64",
        SeccompArch.Aarch64 => "arm64",
        _ => "arm",
    };

    /// <summary>The ABIs a filter for <paramref name="arch"/> covers: the native one first, then listed compat ones.</summary>
    internal IReadOnlyList<SeccompAbi> Abis(SeccompArch arch)
    {
        var (native, nativeName, compat, compatName) = arch switch
        {
            SeccompArch.X86_64 => (SeccompAbi.X86_64, "SCMP_ARCH_X86_64", (SeccompAbi?)SeccompAbi.I386, "SCMP_ARCH_X86"),
            SeccompArch.Aarch64 => (SeccompAbi.Aarch64, "SCMP_ARCH_AARCH64", SeccompAbi.Arm, "SCMP_ARCH_ARM"),
            _ => (SeccompAbi.Arm, "SCMP_ARCH_ARM", (SeccompAbi?)null, ""),
        };
        bool listed = Architectures.Contains(compatName, StringComparer.Ordinal)
            || (ArchMap.TryGetValue(nativeName, out var subs) && subs.Contains(compatName, StringComparer.Ordinal));
        return compat is { } c && listed ? [native, c] : [native];
    }

    /// <summary>The rules that apply to this architecture, capability set and kernel (dockerd's setupSeccomp).</summary>
    internal List<SeccompRule> Resolve(SeccompArch arch, ulong capabilities, Version kernel)
    {
        string goArch = GoArch(arch);
        bool Has(int cap) => cap is >= 0 and < 64 && (capabilities & (1UL << cap)) != 0;
        var applied = new List<SeccompRule>();
        foreach (var rule in Rules)
        {
            var ex = rule.Excludes;
            if (ex.Arches.Contains(goArch, StringComparer.Ordinal) || ex.Caps.Any(Has) || (ex.MinKernel is { } exMin && kernel >= exMin))
                continue;
            var inc = rule.Includes;
            if ((inc.Arches.Count > 0 && !inc.Arches.Contains(goArch, StringComparer.Ordinal))
                || !inc.Caps.All(Has)
                || (inc.MinKernel is { } min && kernel < min))
                continue;
            applied.Add(rule);
        }
        return applied;
    }
}
