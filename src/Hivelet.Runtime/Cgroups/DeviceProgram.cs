using System.Buffers.Binary;

namespace Hivelet.Runtime.Cgroups;

/// <summary>
/// Compiles device rules into an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, the cgroup v2
/// replacement of devices.allow/deny. The kernel calls it with a struct bpf_cgroup_dev_ctx
/// { u32 access_type (device type in the low 16 bits, access in the high 16); u32 major; u32 minor; }
/// and allows the access when it returns 1.
/// </summary>
/// <remarks>
/// Rules are checked from the last to the first and the first match decides, which is what the v1
/// controller's "later rules override earlier ones" amounts to: an allow matches when it grants every
/// requested access, a deny when it takes away any of them. Nothing matched = denied.
/// </remarks>
public static class DeviceProgram
{
    public const string License = "Apache";

    // bpf_cgroup_dev_ctx values (include/uapi/linux/bpf.h).
    internal const int DevBlock = 1, DevChar = 2;
    internal const int AccMknod = 1, AccRead = 2, AccWrite = 4;

    // Opcodes: class | op | source.
    internal const byte LdxMemW = 0x61;   // BPF_LDX | BPF_MEM | BPF_W
    internal const byte Alu32AndK = 0x54; // BPF_ALU | BPF_AND | BPF_K
    internal const byte Alu32RshK = 0x74; // BPF_ALU | BPF_RSH | BPF_K
    internal const byte Alu32MovX = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
    internal const byte Alu64MovK = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
    internal const byte JmpJneK = 0x55;   // BPF_JMP | BPF_JNE | BPF_K
    internal const byte JmpJeqK = 0x15;   // BPF_JMP | BPF_JEQ | BPF_K
    internal const byte Exit = 0x95;      // BPF_JMP | BPF_EXIT

    // Registers: r1 = ctx on entry; r2 type, r3 access, r4 major, r5 minor, r0 scratch and result.
    internal const byte R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

    /// <summary>One eBPF instruction (struct bpf_insn).</summary>
    public readonly record struct Insn(byte Code, byte Dst, byte Src, short Off, int Imm);

    /// <summary>The program as instructions.</summary>
    public static List<Insn> Compile(IReadOnlyList<DeviceRule> rules)
    {
        var prog = new List<Insn>
        {
            new(LdxMemW, R2, R1, 0, 0),
            new(Alu32AndK, R2, 0, 0, 0xffff),
            new(LdxMemW, R3, R1, 0, 0),
            new(Alu32RshK, R3, 0, 0, 16),
            new(LdxMemW, R4, R1, 4, 0),
            new(LdxMemW, R5, R1, 8, 0),
        };
        for (int i = rules.Count - 1; i >= 0; i--)
        {
            var rule = rules[i];
            DeviceRules.Validate(rule);
            // Each block jumps to its end ("next rule") on any mismatch; the offsets are known once
            // the block is built, so they are patched afterwards.
            var block = new List<(Insn Insn, bool JumpsToNext)>();
            if (rule.Type != 'a')
                block.Add((new(JmpJneK, R2, 0, 0, rule.Type == 'c' ? DevChar : DevBlock), true));
            int access = AccessBits(rule.Access);
            if (access != (AccMknod | AccRead | AccWrite))
            {
                block.Add((new(Alu32MovX, R0, R3, 0, 0), false));
                if (rule.Allow)
                {
                    // Every requested bit must be granted: (requested & ~granted) == 0.
                    block.Add((new(Alu32AndK, R0, 0, 0, ~access & 0xffff), false));
                    block.Add((new(JmpJneK, R0, 0, 0, 0), true));
                }
                else
                {
                    // Any requested bit denied: (requested & denied) != 0.
                    block.Add((new(Alu32AndK, R0, 0, 0, access), false));
                    block.Add((new(JmpJeqK, R0, 0, 0, 0), true));
                }
            }
            if (rule.Type != 'a' && rule.Major >= 0)
                block.Add((new(JmpJneK, R4, 0, 0, unchecked((int)(uint)rule.Major)), true));
            if (rule.Type != 'a' && rule.Minor >= 0)
                block.Add((new(JmpJneK, R5, 0, 0, unchecked((int)(uint)rule.Minor)), true));
            block.Add((new(Alu64MovK, R0, 0, 0, rule.Allow ? 1 : 0), false));
            block.Add((new(Exit, 0, 0, 0, 0), false));
            for (int j = 0; j < block.Count; j++)
            {
                var (insn, jumps) = block[j];
                prog.Add(jumps ? insn with { Off = (short)(block.Count - j - 1) } : insn);
            }
            // An unconditional match ends the program: earlier rules can never be reached.
            if (rule.Type == 'a' && access == (AccMknod | AccRead | AccWrite))
                return prog;
        }
        prog.Add(new(Alu64MovK, R0, 0, 0, 0));
        prog.Add(new(Exit, 0, 0, 0, 0));
        return prog;
    }

    /// <summary>The program as the bytes bpf(BPF_PROG_LOAD) takes: 8 bytes per instruction, host order.</summary>
    public static byte[] Encode(IReadOnlyList<Insn> program)
    {
        var bytes = new byte[program.Count * 8];
        for (int i = 0; i < program.Count; i++)
        {
            var insn = program[i];
            var span = bytes.AsSpan(i * 8, 8);
            span[0] = insn.Code;
            // dst_reg:4 and src_reg:4 are bitfields: dst in the low nibble on little-endian hosts.
            span[1] = BitConverter.IsLittleEndian ? (byte)((insn.Src << 4) | insn.Dst) : (byte)((insn.Dst << 4) | insn.Src);
            if (BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.WriteInt16LittleEndian(span[2..], insn.Off);
                BinaryPrimitives.WriteInt32LittleEndian(span[4..], insn.Imm);
            }
            else
            {
                BinaryPrimitives.WriteInt16BigEndian(span[2..], insn.Off);
                BinaryPrimitives.WriteInt32BigEndian(span[4..], insn.Imm);
            }
        }
        return bytes;
    }

    internal static int AccessBits(string access)
    {
        int bits = 0;
        foreach (char c in access)
        {
            bits |= c switch { 'm' => AccMknod, 'r' => AccRead, 'w' => AccWrite, _ => 0 };
        }
        return bits;
    }
}
