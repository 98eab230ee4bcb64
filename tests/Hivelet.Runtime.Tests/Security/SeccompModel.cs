using Hivelet.Runtime.Security;
using static Hivelet.Runtime.Security.SeccompCompiler;

namespace Hivelet.Runtime.Tests.Security;

/// <summary>
/// The meaning of a profile evaluated directly, rule by rule, without BPF: for one call, the first rule
/// with arguments whose tests all hold decides; else the first rule without arguments; else the default.
/// Tests compare the compiled program with this over whole syscall tables.
/// </summary>
internal static class SeccompModel
{
    private static readonly SeccompAbi[] AllAbis = [SeccompAbi.X86_64, SeccompAbi.I386, SeccompAbi.Aarch64, SeccompAbi.Arm];

    /// <summary>The decision for call <paramref name="nr"/>, given the resolved rules that name it, in order.</summary>
    internal static uint Expected(
        SeccompProfile profile, SeccompArch arch, List<SeccompRule> rules, SeccompAbi abi, int nr, ulong[] args)
    {
        if (!profile.Abis(arch).Contains(abi))
            return SECCOMP_RET_KILL_PROCESS;
        if (abi == SeccompAbi.X86_64 && (uint)nr >= 0x40000000 && nr != -1)
            return SECCOMP_RET_KILL_PROCESS;
        foreach (var rule in rules.Where(r => r.Args.Count > 0))
        {
            if (rule.Args.All(a => Holds(a, args[a.Index])))
                return Encode(rule.Action);
        }
        var plain = rules.FirstOrDefault(r => r.Args.Count == 0);
        return Encode(plain?.Action ?? profile.DefaultAction);
    }

    private static Dictionary<int, List<SeccompRule>> ByNumber(List<SeccompRule> resolved, SeccompAbi abi)
    {
        var map = new Dictionary<int, List<SeccompRule>>();
        foreach (var rule in resolved)
        {
            foreach (var nr in rule.Names.Select(n => Lookup(abi, n)).Where(nr => nr >= 0).Distinct())
            {
                if (!map.TryGetValue(nr, out var list))
                    map[nr] = list = [];
                list.Add(rule);
            }
        }
        return map;
    }

    internal static bool Holds(SeccompArg a, ulong arg) => a.Op switch
    {
        SeccompOp.Equal => arg == a.Value,
        SeccompOp.NotEqual => arg != a.Value,
        SeccompOp.LessThan => arg < a.Value,
        SeccompOp.LessOrEqual => arg <= a.Value,
        SeccompOp.GreaterThan => arg > a.Value,
        SeccompOp.GreaterOrEqual => arg >= a.Value,
        _ => (arg & a.Value) == a.ValueTwo,
    };

    /// <summary>Argument vectors on and around every value the given rules compare with, at the positions they test.</summary>
    internal static List<ulong[]> ArgVectors(IEnumerable<SeccompRule> rules)
    {
        var values = new SortedSet<ulong> { 0, 1, 0xffffffff, 0x1_0000_0000, ulong.MaxValue };
        var positions = new SortedSet<int>();
        foreach (var arg in rules.SelectMany(r => r.Args))
        {
            positions.Add(arg.Index);
            foreach (var v in new[] { arg.Value, arg.ValueTwo, arg.Value | arg.ValueTwo })
            {
                values.Add(v);
                values.Add(v + 1);
                values.Add(v - 1);
                values.Add(v ^ 0x1_0000_0000);
                values.Add(v ^ 0x8000_0000);
                values.Add(v | 0xffff_ffff_0000_0000);
            }
        }
        var vectors = new List<ulong[]> { new ulong[6] };
        foreach (var v in values)
        {
            foreach (var i in positions)
            {
                var args = new ulong[6];
                args[i] = v;
                vectors.Add(args);
            }
            // Every tested position at once, for rules that AND several tests.
            if (positions.Count > 1)
                vectors.Add([.. Enumerable.Range(0, 6).Select(i => positions.Contains(i) ? v : 0)]);
        }
        return vectors;
    }

    /// <summary>Runs every number of every ABI (and the numbers around them) through the program.</summary>
    internal static void CheckAll(SeccompProfile profile, SeccompArch arch, ulong caps, Version kernel, byte[] program)
    {
        var resolved = profile.Resolve(arch, caps, kernel);
        var names = profile.Rules.SelectMany(r => r.Names).Concat(SeccompDefaultProfile.Unconditional).Concat(["kexec_load", "keyctl", "read"]).Distinct().ToList();
        foreach (var abi in AllAbis)
        {
            var numbers = new SortedSet<int> { 0, -1, 0x3fffffff, 0x40000000, 0x40000001, int.MaxValue, int.MinValue, 0xf0005 };
            foreach (var name in names)
            {
                int nr = Lookup(abi, name);
                if (nr < 0)
                    continue;
                numbers.Add(nr);
                numbers.Add(nr + 1);
                numbers.Add(nr - 1);
            }
            var byNumber = ByNumber(resolved, abi);
            foreach (var nr in numbers)
            {
                var relevant = byNumber.TryGetValue(nr, out var list) ? list : [];
                var vectors = relevant.Any(r => r.Args.Count > 0) ? ArgVectors(relevant) : [new ulong[6]];
                foreach (var args in vectors)
                {
                    uint want = Expected(profile, arch, relevant, abi, nr, args);
                    uint got = CbpfInterpreter.Run(program, nr, AuditArch(abi), args).Ret;
                    if (want != got)
                        Assert.Fail($"{arch} caps {caps:x}: {abi} call {nr} args [{string.Join(",", args.Select(a => a.ToString("x")))}]: want {want:x}, got {got:x}");
                }
            }
        }
    }
}
