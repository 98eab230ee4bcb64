using System.Buffers.Binary;

namespace Hivelet.Runtime.Tests.Security;

/// <summary>
/// Runs a classic BPF seccomp program on a synthetic seccomp_data, checking it the way the kernel's
/// seccomp_check_filter does first: only the opcodes seccomp accepts, aligned loads inside seccomp_data,
/// forward jumps inside the program, and a RET at the end of every path.
/// </summary>
internal static class CbpfInterpreter
{
    internal readonly record struct Insn(ushort Code, byte Jt, byte Jf, uint K);

    internal static Insn[] Decode(byte[] program)
    {
        Assert.True(program.Length % 8 == 0, $"program length {program.Length} is not a multiple of 8");
        var insns = new Insn[program.Length / 8];
        for (int i = 0; i < insns.Length; i++)
        {
            var s = program.AsSpan(i * 8, 8);
            insns[i] = new Insn(BinaryPrimitives.ReadUInt16LittleEndian(s), s[2], s[3], BinaryPrimitives.ReadUInt32LittleEndian(s[4..]));
        }
        return insns;
    }

    /// <summary>Static checks; throws (fails the test) on anything the kernel would refuse.</summary>
    internal static void Validate(byte[] program)
    {
        var insns = Decode(program);
        Assert.InRange(insns.Length, 1, 4096);
        for (int pc = 0; pc < insns.Length; pc++)
        {
            var insn = insns[pc];
            switch (insn.Code)
            {
                case 0x20: // ld [k]
                    Assert.True(insn.K % 4 == 0 && insn.K < 64, $"pc {pc}: load offset {insn.K}");
                    Assert.True(pc + 1 < insns.Length, $"pc {pc}: falls off the end");
                    break;
                case 0x54: // and #k
                    Assert.True(pc + 1 < insns.Length, $"pc {pc}: falls off the end");
                    break;
                case 0x05: // ja k
                    Assert.True((ulong)pc + 1 + insn.K < (ulong)insns.Length, $"pc {pc}: ja out of range");
                    break;
                case 0x15 or 0x25 or 0x35 or 0x45: // jeq, jgt, jge, jset #k
                    Assert.True(pc + 1 + insn.Jt < insns.Length && pc + 1 + insn.Jf < insns.Length, $"pc {pc}: jump out of range");
                    break;
                case 0x06: // ret #k
                    break;
                default:
                    Assert.Fail($"pc {pc}: opcode 0x{insn.Code:x} is not accepted by seccomp");
                    break;
            }
        }
    }

    /// <summary>Runs the program; returns the SECCOMP_RET_* value and how many instructions ran.</summary>
    internal static (uint Ret, int Steps) Run(byte[] program, int nr, uint arch, params ulong[] args)
    {
        var insns = Decode(program);
        Span<byte> data = stackalloc byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data[4..], arch);
        BinaryPrimitives.WriteUInt64LittleEndian(data[8..], 0x7f00_dead_beefUL); // instruction_pointer
        for (int i = 0; i < 6; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(data[(16 + (8 * i))..], i < args.Length ? args[i] : 0);

        uint a = 0;
        int steps = 0;
        for (int pc = 0; pc < insns.Length; pc++)
        {
            steps++;
            var insn = insns[pc];
            switch (insn.Code)
            {
                case 0x20:
                    a = BinaryPrimitives.ReadUInt32LittleEndian(data[(int)insn.K..]);
                    break;
                case 0x54:
                    a &= insn.K;
                    break;
                case 0x05:
                    pc += (int)insn.K;
                    break;
                case 0x15:
                    pc += a == insn.K ? insn.Jt : insn.Jf;
                    break;
                case 0x25:
                    pc += a > insn.K ? insn.Jt : insn.Jf;
                    break;
                case 0x35:
                    pc += a >= insn.K ? insn.Jt : insn.Jf;
                    break;
                case 0x45:
                    pc += (a & insn.K) != 0 ? insn.Jt : insn.Jf;
                    break;
                case 0x06:
                    return (insn.K, steps);
                default:
                    throw new InvalidOperationException($"pc {pc}: opcode 0x{insn.Code:x}");
            }
        }
        throw new InvalidOperationException("the program ran off its end");
    }
}
