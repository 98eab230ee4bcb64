using Hivelet.Runtime.Cgroups;
using static Hivelet.Runtime.Cgroups.DeviceProgram;

namespace Hivelet.Runtime.Tests.Cgroups;

public sealed class DeviceProgramTests
{
    /// <summary>Runs a compiled program on one access the way the kernel would, for the instructions Compile emits.</summary>
    private static bool Allows(IReadOnlyList<Insn> program, char type, long major, long minor, string access)
    {
        ulong ctx = (uint)((type == 'c' ? DevChar : DevBlock) | (AccessBits(access) << 16));
        var r = new ulong[11];
        int pc = 0;
        for (int steps = 0; steps < 10_000; steps++)
        {
            var i = program[pc++];
            switch (i.Code)
            {
                case LdxMemW:
                    Assert.Equal(R1, i.Src);
                    r[i.Dst] = i.Off switch { 0 => ctx, 4 => (uint)major, 8 => (uint)minor, _ => throw new InvalidOperationException("ctx offset") };
                    break;
                case Alu32AndK: r[i.Dst] = (uint)(r[i.Dst] & (uint)i.Imm); break;
                case Alu32RshK: r[i.Dst] = (uint)r[i.Dst] >> i.Imm; break;
                case Alu32MovX: r[i.Dst] = (uint)r[i.Src]; break;
                case Alu64MovK: r[i.Dst] = (ulong)(long)i.Imm; break;
                case JmpJneK: if (r[i.Dst] != (ulong)(long)i.Imm) pc += i.Off; break;
                case JmpJeqK: if (r[i.Dst] == (ulong)(long)i.Imm) pc += i.Off; break;
                case Exit: return r[R0] == 1;
                default: throw new InvalidOperationException($"opcode 0x{i.Code:x2}");
            }
        }
        throw new InvalidOperationException("no exit");
    }

    [Theory]
    [InlineData('c', 1, 3, "rw", true)]      // null
    [InlineData('c', 1, 5, "r", true)]       // zero
    [InlineData('c', 1, 7, "rw", true)]      // full (runc's appended allow)
    [InlineData('c', 136, 4, "rw", true)]    // /dev/pts/4
    [InlineData('c', 5, 2, "rw", true)]      // ptmx
    [InlineData('c', 10, 200, "rw", true)]   // /dev/net/tun
    [InlineData('c', 10, 229, "rw", false)]  // fuse: denied by Docker
    [InlineData('c', 10, 229, "m", true)]    // but mknod of any char node is allowed
    [InlineData('b', 8, 0, "r", false)]      // a disk
    [InlineData('b', 8, 0, "m", true)]
    [InlineData('c', 4, 1, "rw", false)]     // tty1
    [InlineData('c', 1, 1, "r", false)]      // /dev/mem
    public void DockersDefaultRules(char type, long major, long minor, string access, bool allowed)
    {
        var program = Compile(DeviceRules.DockerDefault);
        Assert.Equal(allowed, Allows(program, type, major, minor, access));
    }

    [Fact]
    public void LaterRulesWinAndPartialAccessIsRespected()
    {
        var program = Compile([new(true, 'c', 1, 3, "rwm"), new(false, 'c', 1, 3, "w")]);
        Assert.True(Allows(program, 'c', 1, 3, "r"));
        Assert.False(Allows(program, 'c', 1, 3, "w"));
        Assert.False(Allows(program, 'c', 1, 3, "rw"));
        Assert.False(Allows(program, 'b', 1, 3, "r"));

        var readOnly = Compile([new(true, 'c', 1, 3, "r")]);
        Assert.True(Allows(readOnly, 'c', 1, 3, "r"));
        Assert.False(Allows(readOnly, 'c', 1, 3, "rw"));
    }

    [Fact]
    public void NoRuleDeniesAndAllowAllAllows()
    {
        Assert.False(Allows(Compile([]), 'c', 1, 3, "r"));
        Assert.True(Allows(Compile(DeviceRules.AllowAll), 'b', 8, 0, "rwm"));
        Assert.True(DeviceRules.IsAllowAll(DeviceRules.AllowAll));
        Assert.False(DeviceRules.IsAllowAll(DeviceRules.DockerDefault));
    }

    [Fact]
    public void AnUnconditionalRuleEndsTheProgram()
    {
        // Checked from the last rule, "deny a" decides everything, so nothing after it is emitted.
        var program = Compile([new(true, 'c', 1, 3, "rwm"), new(false, 'a', -1, -1, "rwm")]);
        Assert.Equal(6 + 2, program.Count);
        Assert.False(Allows(program, 'c', 1, 3, "r"));
    }

    [Fact]
    public void InstructionsAreEncodedAsStructBpfInsn()
    {
        var bytes = Encode([new(LdxMemW, R2, R1, 4, 0), new(Alu64MovK, R0, 0, 0, -2), new(Exit, 0, 0, 0, 0)]);
        Assert.Equal(new byte[]
        {
            0x61, 0x12, 4, 0, 0, 0, 0, 0,
            0xb7, 0x00, 0, 0, 0xfe, 0xff, 0xff, 0xff,
            0x95, 0x00, 0, 0, 0, 0, 0, 0,
        }, bytes);
    }

    [Fact]
    public void BadRulesAreRefused()
    {
        Assert.Throws<Hivelet.Errors.InvalidInputException>(() => Compile([new(true, 'x', 1, 3, "rwm")]));
        Assert.Throws<Hivelet.Errors.InvalidInputException>(() => Compile([new(true, 'c', 1, 3, "rwx")]));
        Assert.Throws<Hivelet.Errors.InvalidInputException>(() => Compile([new(true, 'c', -2, 3, "r")]));
    }
}
