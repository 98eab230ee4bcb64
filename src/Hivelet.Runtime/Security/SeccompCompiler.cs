using System.Buffers.Binary;
using Hivelet.Errors;

namespace Hivelet.Runtime.Security;

/// <summary>A syscall ABI a filter section covers: its AUDIT_ARCH_* value and its number table.</summary>
internal enum SeccompAbi
{
    X86_64,
    I386,
    Aarch64,
    Arm,
}

/// <summary>
/// Compiles a resolved profile to classic BPF. Layout: check seccomp_data.arch against each covered ABI
/// (anything else is SECCOMP_RET_KILL_PROCESS), then per ABI load the syscall number and walk a binary search
/// over the number line cut into runs of equal treatment, so a call costs ~log2(runs) jumps; calls with
/// argument rules end in a short chain of 32-bit half comparisons.
/// The program is emitted back to front: cBPF only jumps forward, so every target already exists when a jump
/// is written, and a conditional jump farther than 255 instructions goes through a 32-bit JA.
/// </summary>
internal sealed class SeccompCompiler
{
    // linux/audit.h
    internal const uint AUDIT_ARCH_X86_64 = 0xC000003E;
    internal const uint AUDIT_ARCH_I386 = 0x40000003;
    internal const uint AUDIT_ARCH_AARCH64 = 0xC00000B7;
    internal const uint AUDIT_ARCH_ARM = 0x40000028;

    // linux/seccomp.h
    internal const uint SECCOMP_RET_KILL_PROCESS = 0x80000000;
    internal const uint SECCOMP_RET_KILL_THREAD = 0x00000000;
    internal const uint SECCOMP_RET_TRAP = 0x00030000;
    internal const uint SECCOMP_RET_ERRNO = 0x00050000;
    internal const uint SECCOMP_RET_TRACE = 0x7ff00000;
    internal const uint SECCOMP_RET_LOG = 0x7ffc0000;
    internal const uint SECCOMP_RET_ALLOW = 0x7fff0000;

    // linux/filter.h, linux/bpf_common.h
    internal const ushort BPF_LD_W_ABS = 0x20;
    internal const ushort BPF_ALU_AND_K = 0x54;
    internal const ushort BPF_JMP_JA = 0x05;
    internal const ushort BPF_JMP_JEQ_K = 0x15;
    internal const ushort BPF_JMP_JGT_K = 0x25;
    internal const ushort BPF_JMP_JGE_K = 0x35;
    internal const ushort BPF_RET_K = 0x06;
    internal const int BPF_MAXINSNS = 4096;

    // struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];
    private const uint OffsetNr = 0;
    private const uint OffsetArch = 4;
    private const uint OffsetArgs = 16;

    /// <summary>x32 calls are x86_64 numbers with this bit set; hivelet refuses that ABI, as it has no table for it.</summary>
    private const uint X32SyscallBit = 0x40000000;

    private const int FarJump = 250;

    private readonly List<Insn> _rev = [];
    private readonly Dictionary<uint, int> _returns = [];

    private readonly record struct Insn(ushort Code, byte Jt, byte Jf, uint K);

    /// <summary>What one syscall number does: argument rules tried in order, then <see cref="Fallback"/>.</summary>
    internal sealed record Plan(IReadOnlyList<(IReadOnlyList<SeccompArg> Args, uint Ret)> Conditional, uint Fallback)
    {
        private string? _key;

        /// <summary>Equal for plans that behave the same (built only for plans with argument rules).</summary>
        public string Key => _key ??= string.Join(
            ";",
            Conditional.Select(c => string.Join(",", c.Args.Select(a => $"{a.Index}{a.Op}{a.Value:x}/{a.ValueTwo:x}")) + $"->{c.Ret:x}"))
            + $"|{Fallback:x}";

        public bool SameAs(Plan other) =>
            ReferenceEquals(this, other)
            || (Conditional.Count == 0 && other.Conditional.Count == 0 ? Fallback == other.Fallback : Key == other.Key);
    }

    internal static uint AuditArch(SeccompAbi abi) => abi switch
    {
        SeccompAbi.X86_64 => AUDIT_ARCH_X86_64,
        SeccompAbi.I386 => AUDIT_ARCH_I386,
        SeccompAbi.Aarch64 => AUDIT_ARCH_AARCH64,
        _ => AUDIT_ARCH_ARM,
    };

    internal static int Lookup(SeccompAbi abi, string name) => abi switch
    {
        SeccompAbi.X86_64 => Syscalls.X86_64(name),
        SeccompAbi.I386 => Syscalls.I386(name),
        SeccompAbi.Aarch64 => Syscalls.Aarch64(name),
        _ => Syscalls.Arm(name),
    };

    internal static uint Encode(SeccompAction action) => action.Kind switch
    {
        SeccompActionKind.Allow => SECCOMP_RET_ALLOW,
        SeccompActionKind.Errno => SECCOMP_RET_ERRNO | (action.Data & 0xffff),
        SeccompActionKind.KillThread => SECCOMP_RET_KILL_THREAD,
        SeccompActionKind.KillProcess => SECCOMP_RET_KILL_PROCESS,
        SeccompActionKind.Trap => SECCOMP_RET_TRAP,
        SeccompActionKind.Trace => SECCOMP_RET_TRACE | (action.Data & 0xffff),
        _ => SECCOMP_RET_LOG,
    };

    /// <summary>The per-number plans of one ABI: only numbers treated otherwise than the default are present.</summary>
    internal static SortedDictionary<uint, Plan> PlanAbi(SeccompAbi abi, IReadOnlyList<SeccompRule> rules, uint defaultRet)
    {
        var byNr = new Dictionary<uint, (List<(IReadOnlyList<SeccompArg>, uint)>? Cond, uint? Uncond)>();
        foreach (var rule in rules)
        {
            uint ret = Encode(rule.Action);
            foreach (var name in rule.Names)
            {
                int nr = Lookup(abi, name);
                if (nr < 0)
                    continue; // libseccomp skips names an architecture lacks; so do we
                byNr.TryGetValue((uint)nr, out var entry);
                if (rule.Args.Count == 0)
                    entry.Uncond ??= ret; // the first unconditional rule for a call wins
                else
                    (entry.Cond ??= []).Add((rule.Args, ret));
                byNr[(uint)nr] = entry;
            }
        }
        var plans = new SortedDictionary<uint, Plan>();
        var unconditional = new Dictionary<uint, Plan>();
        foreach (var (nr, entry) in byNr)
        {
            var fallback = entry.Uncond ?? defaultRet;
            // Argument rules that end where the call would end anyway change nothing.
            entry.Cond?.RemoveAll(c => c.Item2 == fallback);
            if (entry.Cond is null or { Count: 0 })
            {
                if (fallback == defaultRet)
                    continue;
                if (!unconditional.TryGetValue(fallback, out var shared))
                    unconditional[fallback] = shared = new Plan([], fallback);
                plans[nr] = shared;
                continue;
            }
            plans[nr] = new Plan(entry.Cond, fallback);
        }
        return plans;
    }

    /// <summary>Compiles the sections (ABI -> plans) into the raw sock_filter array.</summary>
    internal static byte[] Emit(IReadOnlyList<(SeccompAbi Abi, SortedDictionary<uint, Plan> Plans)> sections, uint defaultRet)
    {
        var c = new SeccompCompiler();
        var entries = new List<(uint Arch, int Label)>();
        for (int s = sections.Count - 1; s >= 0; s--)
            entries.Add((AuditArch(sections[s].Abi), c.Section(sections[s].Abi, sections[s].Plans, defaultRet)));
        // An unknown architecture would read the numbers of a different table: kill, as libseccomp does.
        int next = c.Return(SECCOMP_RET_KILL_PROCESS);
        foreach (var (arch, label) in entries)
            next = c.Jump(BPF_JMP_JEQ_K, arch, label, next);
        c.Load(OffsetArch);

        if (c._rev.Count > BPF_MAXINSNS)
            throw new HiveletException($"seccomp: the filter needs {c._rev.Count} instructions, more than the kernel's {BPF_MAXINSNS}");
        var bytes = new byte[c._rev.Count * 8];
        for (int i = 0; i < c._rev.Count; i++)
        {
            var insn = c._rev[c._rev.Count - 1 - i];
            var span = bytes.AsSpan(i * 8, 8);
            // struct sock_filter is in host byte order; every architecture hivelet runs on is little-endian.
            BinaryPrimitives.WriteUInt16LittleEndian(span, insn.Code);
            span[2] = insn.Jt;
            span[3] = insn.Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(span[4..], insn.K);
        }
        return bytes;
    }

    private int Section(SeccompAbi abi, SortedDictionary<uint, Plan> plans, uint defaultRet)
    {
        // Cut the 32-bit number line into runs [start, next start) of one plan each; null = the default.
        var runs = new List<(uint Start, Plan? Plan)> { (0, null) };
        uint end = 0;
        foreach (var (nr, plan) in plans)
        {
            if (nr != end && runs[^1].Plan is not null)
                runs.Add((end, null));
            if (nr == end && runs[^1].Plan is { } last && last.SameAs(plan))
            {
                // extends the current run
            }
            else if (nr == 0)
            {
                runs[0] = (0, plan);
            }
            else
            {
                runs.Add((nr, plan));
            }
            end = nr + 1;
        }
        if (end != 0 && runs[^1].Plan is not null)
            runs.Add((end, null));

        var bodies = new Dictionary<string, int>(StringComparer.Ordinal);
        int tree = Tree(runs, 0, runs.Count, defaultRet, bodies);
        if (abi == SeccompAbi.X86_64)
        {
            // x32 shares AUDIT_ARCH_X86_64 and flags its numbers with bit 30. -1 is a tracer skipping the call.
            int x32 = Jump(BPF_JMP_JEQ_K, uint.MaxValue, Return(defaultRet), Return(SECCOMP_RET_KILL_PROCESS));
            tree = Jump(BPF_JMP_JGE_K, X32SyscallBit, x32, tree);
        }
        Load(OffsetNr);
        return _rev.Count - 1;
    }

    private int Tree(List<(uint Start, Plan? Plan)> runs, int lo, int hi, uint defaultRet, Dictionary<string, int> bodies)
    {
        if (hi - lo == 1)
            return Body(runs[lo].Plan, defaultRet, bodies);
        int mid = (lo + hi) / 2;
        int right = Tree(runs, mid, hi, defaultRet, bodies);
        int left = Tree(runs, lo, mid, defaultRet, bodies);
        return Jump(BPF_JMP_JGE_K, runs[mid].Start, right, left);
    }

    private int Body(Plan? plan, uint defaultRet, Dictionary<string, int> bodies)
    {
        if (plan is null)
            return Return(defaultRet);
        if (plan.Conditional.Count == 0)
            return Return(plan.Fallback);
        if (bodies.TryGetValue(plan.Key, out int label))
            return label;
        int next = Return(plan.Fallback);
        for (int i = plan.Conditional.Count - 1; i >= 0; i--)
        {
            var (args, ret) = plan.Conditional[i];
            int pass = Return(ret);
            for (int j = args.Count - 1; j >= 0; j--)
                pass = ArgTest(args[j], pass, next);
            next = pass;
        }
        bodies[plan.Key] = next;
        return next;
    }

    /// <summary>A 64-bit unsigned comparison of one argument, high half first (little-endian seccomp_data).</summary>
    private int ArgTest(SeccompArg arg, int pass, int fail)
    {
        uint lowOffset = OffsetArgs + (8 * (uint)arg.Index);
        uint highOffset = lowOffset + 4;
        uint vLo = (uint)arg.Value, vHi = (uint)(arg.Value >> 32);
        switch (arg.Op)
        {
            case SeccompOp.Equal:
                Jump(BPF_JMP_JEQ_K, vLo, pass, fail);
                Load(lowOffset);
                Jump(BPF_JMP_JEQ_K, vHi, _rev.Count - 1, fail);
                break;
            case SeccompOp.NotEqual:
                Jump(BPF_JMP_JEQ_K, vLo, fail, pass);
                Load(lowOffset);
                Jump(BPF_JMP_JEQ_K, vHi, _rev.Count - 1, pass);
                break;
            case SeccompOp.MaskedEqual:
            {
                uint dLo = (uint)arg.ValueTwo, dHi = (uint)(arg.ValueTwo >> 32);
                Jump(BPF_JMP_JEQ_K, dLo, pass, fail);
                Emit(new Insn(BPF_ALU_AND_K, 0, 0, vLo));
                Load(lowOffset);
                Jump(BPF_JMP_JEQ_K, dHi, _rev.Count - 1, fail);
                Emit(new Insn(BPF_ALU_AND_K, 0, 0, vHi));
                break;
            }
            case SeccompOp.GreaterThan:
            case SeccompOp.GreaterOrEqual:
            {
                ushort lowCode = arg.Op == SeccompOp.GreaterThan ? BPF_JMP_JGT_K : BPF_JMP_JGE_K;
                Jump(lowCode, vLo, pass, fail);
                Load(lowOffset);
                int lowStart = _rev.Count - 1;
                int eq = Jump(BPF_JMP_JEQ_K, vHi, lowStart, fail);
                Jump(BPF_JMP_JGT_K, vHi, pass, eq);
                break;
            }
            default: // LessThan, LessOrEqual: the negation of GreaterOrEqual, GreaterThan
            {
                ushort lowCode = arg.Op == SeccompOp.LessThan ? BPF_JMP_JGE_K : BPF_JMP_JGT_K;
                Jump(lowCode, vLo, fail, pass);
                Load(lowOffset);
                int lowStart = _rev.Count - 1;
                int eq = Jump(BPF_JMP_JEQ_K, vHi, lowStart, pass);
                Jump(BPF_JMP_JGT_K, vHi, fail, eq);
                break;
            }
        }
        Load(highOffset);
        return _rev.Count - 1;
    }

    private void Load(uint offset) => Emit(new Insn(BPF_LD_W_ABS, 0, 0, offset));

    private int Emit(Insn insn)
    {
        _rev.Add(insn);
        return _rev.Count - 1;
    }

    /// <summary>A RET of <paramref name="ret"/> near the current position (reused while it is in jump range).</summary>
    private int Return(uint ret)
    {
        if (_returns.TryGetValue(ret, out int label) && _rev.Count - label - 1 < FarJump)
            return label;
        label = Emit(new Insn(BPF_RET_K, 0, 0, ret));
        _returns[ret] = label;
        return label;
    }

    /// <summary>Emits "if (A op k) goto t else goto f" and returns its label, routing far targets through JA.</summary>
    private int Jump(ushort code, uint k, int t, int f)
    {
        t = Near(t);
        f = Near(f);
        int at = _rev.Count;
        int jt = at - t - 1, jf = at - f - 1;
        if (jt is < 0 or > 255 || jf is < 0 or > 255)
            throw new InvalidOperationException($"seccomp: jump out of range ({jt}, {jf})");
        return Emit(new Insn(code, (byte)jt, (byte)jf, k));
    }

    private int Near(int target)
    {
        if (_rev.Count - target - 1 < FarJump)
            return target;
        var insn = _rev[target];
        if (insn.Code == BPF_RET_K)
            return Return(insn.K);
        return Emit(new Insn(BPF_JMP_JA, 0, 0, (uint)(_rev.Count - target - 1)));
    }
}
