using System.Text;
using Hivelet.Errors;
using Hivelet.Runtime.Security;
using static Hivelet.Runtime.Security.SeccompCompiler;

namespace Hivelet.Runtime.Tests.Security;

public class SeccompProfileParseTests
{
    private static readonly Version Kernel = new(6, 1, 0);

    private static SeccompProfile Parse(string json) => SeccompProfile.Parse(Encoding.UTF8.GetBytes(json), "custom.json");

    private static uint Decide(byte[] program, SeccompAbi abi, string name, params ulong[] args) =>
        CbpfInterpreter.Run(program, Lookup(abi, name), AuditArch(abi), args).Ret;

    private static string Error(string json) => Assert.Throws<InvalidInputException>(() => Parse(json)).Message;

    [Fact]
    public void An_allow_list_profile_allows_what_it_names()
    {
        var profile = Parse("""
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 13,
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
              "syscalls": [
                { "names": ["read", "write", "exit_group", "not_a_syscall"], "action": "SCMP_ACT_ALLOW" },
                { "name": "getpid", "action": "SCMP_ACT_ALLOW", "comment": "legacy single name" },
                { "names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS" }
              ]
            }
            """);
        var program = profile.Compile(SeccompArch.X86_64, 0, Kernel);
        CbpfInterpreter.Validate(program);
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, SeccompAbi.X86_64, "read"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, SeccompAbi.X86_64, "getpid"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, SeccompAbi.I386, "write"));
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, Decide(program, SeccompAbi.X86_64, "kill"));
        Assert.Equal(SECCOMP_RET_ERRNO | 13, Decide(program, SeccompAbi.X86_64, "openat"));
        // Without architectures[], only the native ABI is covered.
        var aarch64 = profile.Compile(SeccompArch.Aarch64, 0, Kernel);
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(aarch64, SeccompAbi.Aarch64, "read"));
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, Decide(aarch64, SeccompAbi.Arm, "read"));
    }

    [Fact]
    public void A_deny_list_profile_denies_what_it_names()
    {
        var profile = Parse("""
            {
              "defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [
                { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30 },
                { "names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO" },
                { "names": ["uname"], "action": "SCMP_ACT_TRAP" },
                { "names": ["getppid"], "action": "SCMP_ACT_LOG" },
                { "names": ["getuid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7 },
                { "names": ["gettid"], "action": "SCMP_ACT_KILL" },
                { "names": ["getgid"], "action": "SCMP_ACT_KILL_THREAD" }
              ]
            }
            """);
        foreach (var arch in new[] { SeccompArch.X86_64, SeccompArch.Aarch64, SeccompArch.Arm })
        {
            var program = profile.Compile(arch, 0, Kernel);
            CbpfInterpreter.Validate(program);
            var abi = profile.Abis(arch)[0];
            Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, abi, "read"));
            Assert.Equal(SECCOMP_RET_ERRNO | 30, Decide(program, abi, "mkdirat"));
            Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(program, abi, "fchmodat"));
            Assert.Equal(SECCOMP_RET_TRAP, Decide(program, abi, "uname"));
            Assert.Equal(SECCOMP_RET_LOG, Decide(program, abi, "getppid"));
            Assert.Equal(SECCOMP_RET_TRACE | 7, Decide(program, abi, "getuid"));
            Assert.Equal(SECCOMP_RET_KILL_THREAD, Decide(program, abi, "gettid"));
            Assert.Equal(SECCOMP_RET_KILL_THREAD, Decide(program, abi, "getgid"));
            SeccompModel.CheckAll(profile, arch, 0, Kernel, program);
        }
    }

    [Fact]
    public void Every_operator_compares_all_64_bits()
    {
        var profile = Parse("""
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [
                { "names": ["read"],   "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 5, "op": "SCMP_CMP_EQ" }] },
                { "names": ["write"],  "action": "SCMP_ACT_ALLOW", "args": [{ "index": 1, "value": 12884901888, "op": "SCMP_CMP_NE" }] },
                { "names": ["lseek"],  "action": "SCMP_ACT_ALLOW", "args": [{ "index": 2, "value": 4294967296, "op": "SCMP_CMP_LT" }] },
                { "names": ["pread64"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 3, "value": 8589934593, "op": "SCMP_CMP_LE" }] },
                { "names": ["pwrite64"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 4, "value": 18446744069414584320, "op": "SCMP_CMP_GE" }] },
                { "names": ["ioctl"],  "action": "SCMP_ACT_ALLOW", "args": [{ "index": 5, "value": 4294967295, "op": "SCMP_CMP_GT" }] },
                { "names": ["mmap"],   "action": "SCMP_ACT_ALLOW", "args": [{ "index": 2, "value": 1095216660484, "valueTwo": 1095216660480, "op": "SCMP_CMP_MASKED_EQ" }] },
                { "names": ["fcntl"],  "action": "SCMP_ACT_ALLOW", "args": [
                    { "index": 0, "value": 3, "op": "SCMP_CMP_GE" },
                    { "index": 1, "value": 1024, "op": "SCMP_CMP_LT" } ] },
                { "names": ["fcntl"],  "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ" }] }
              ]
            }
            """);
        var program = profile.Compile(SeccompArch.X86_64, 0, Kernel);
        CbpfInterpreter.Validate(program);
        var x = SeccompAbi.X86_64;
        const uint deny = SECCOMP_RET_ERRNO | 1;
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "read", 5));
        Assert.Equal(deny, Decide(program, x, "read", 5 | (1UL << 32)));
        Assert.Equal(deny, Decide(program, x, "write", 0, 3UL << 32));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "write", 0, 3));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "lseek", 0, 0, 0xffffffff));
        Assert.Equal(deny, Decide(program, x, "lseek", 0, 0, 1UL << 32));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "pread64", 0, 0, 0, (2UL << 32) + 1));
        Assert.Equal(deny, Decide(program, x, "pread64", 0, 0, 0, (2UL << 32) + 2));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "pwrite64", 0, 0, 0, 0, 0xffffffff_00000000));
        Assert.Equal(deny, Decide(program, x, "pwrite64", 0, 0, 0, 0, 0xfffffffe_ffffffff));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "ioctl", 0, 0, 0, 0, 0, 1UL << 32));
        Assert.Equal(deny, Decide(program, x, "ioctl", 0, 0, 0, 0, 0, 0xffffffff));
        // MASKED_EQ: (arg & 0xff_0000_0004) == 0xff_0000_0000
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "mmap", 0, 0, 0xff_1234_5673));
        Assert.Equal(deny, Decide(program, x, "mmap", 0, 0, 0xff_1234_5677));
        Assert.Equal(deny, Decide(program, x, "mmap", 0, 0, 0x7f_1234_5673));
        // Two tests in one rule are ANDed; rules are tried in order.
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(program, x, "fcntl", 3, 1023));
        Assert.Equal(deny, Decide(program, x, "fcntl", 3, 1024));
        Assert.Equal(SECCOMP_RET_ERRNO | 9, Decide(program, x, "fcntl", 1, 0));
        SeccompModel.CheckAll(profile, SeccompArch.X86_64, 0, Kernel, program);
    }

    [Fact]
    public void Includes_and_excludes_follow_caps_arches_and_kernel()
    {
        var profile = Parse("""
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "archMap": [ { "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"] } ],
              "syscalls": [
                { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"] } },
                { "names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } },
                { "names": ["getppid"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["arm64"] } },
                { "names": ["gettid"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "5.10" } },
                { "names": ["getuid"], "action": "SCMP_ACT_ALLOW", "excludes": { "minKernel": "5.10" } },
                { "names": ["getgid"], "action": "SCMP_ACT_ALLOW", "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
                { "names": ["getegid"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_NOT_A_CAP"] } }
              ]
            }
            """);
        const ulong admin = 1UL << 21, net = 1UL << 12;
        var a = SeccompAbi.Aarch64;
        var both = profile.Compile(SeccompArch.Aarch64, admin | net, new Version(5, 10, 0));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(both, a, "mount"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(both, SeccompAbi.Arm, "mount"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(both, a, "getpid"));
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(both, a, "getppid"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(both, a, "gettid"));
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(both, a, "getuid"));
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(both, a, "getgid"));
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(both, a, "getegid"));

        var adminOnlyOldKernel = profile.Compile(SeccompArch.Aarch64, admin, new Version(5, 4, 0));
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(adminOnlyOldKernel, a, "mount"));
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(adminOnlyOldKernel, a, "gettid"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(adminOnlyOldKernel, a, "getuid"));

        var x86 = profile.Compile(SeccompArch.X86_64, 0, Kernel);
        Assert.Equal(SECCOMP_RET_ERRNO | 1, Decide(x86, SeccompAbi.X86_64, "getpid"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(x86, SeccompAbi.X86_64, "getppid"));
        Assert.Equal(SECCOMP_RET_ALLOW, Decide(x86, SeccompAbi.X86_64, "getgid"));
        // archMap names only aarch64's sub-architectures: an x86_64 filter covers x86_64 alone.
        Assert.Equal(SECCOMP_RET_KILL_PROCESS, Decide(x86, SeccompAbi.I386, "getppid"));
    }

    [Fact]
    public void Far_jumps_go_through_ja()
    {
        // Several hundred calls, each with its own argument rule, spread the program far beyond 255 instructions.
        var rules = new StringBuilder();
        var names = SeccompDefaultProfile.Unconditional.Where(n => Lookup(SeccompAbi.X86_64, n) >= 0).ToList();
        for (int i = 0; i < names.Count; i++)
        {
            rules.Append(i == 0 ? "" : ",");
            rules.Append($$"""{ "names": ["{{names[i]}}"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": {{i % 6}}, "value": {{i}}, "op": "SCMP_CMP_EQ" }] }""");
        }
        var profile = Parse($$"""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{{rules}}] }""");
        var program = profile.Compile(SeccompArch.X86_64, 0, Kernel);
        CbpfInterpreter.Validate(program);
        Assert.InRange(program.Length / 8, 256 * 4, 4096);
        Assert.Contains(CbpfInterpreter.Decode(program), insn => insn.Code == BPF_JMP_JA);
        SeccompModel.CheckAll(profile, SeccompArch.X86_64, 0, Kernel, program);
    }

    [Theory]
    [InlineData("{", "custom.json")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": "five", "op": "SCMP_CMP_EQ" }] } ] }""", "$.syscalls[0].args[0].value")]
    [InlineData("""{ "syscalls": [] }""", "defaultAction: missing")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_SOMETIMES" }""", "defaultAction: unknown action \"SCMP_ACT_SOMETIMES\"")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_NOTIFY" } ] }""", "syscalls[0].action: SCMP_ACT_NOTIFY is unsupported")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW" }, { "names": ["write"], "action": "ALLOW" } ] }""", "syscalls[1].action: unknown action \"ALLOW\"")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 1, "op": "SCMP_CMP_ABOUT" }] } ] }""", "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 6, "value": 1, "op": "SCMP_CMP_EQ" }] } ] }""", "syscalls[0].args[0].index: 6")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 1 }] } ] }""", "syscalls[0].args[0].op: missing")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW" } ] }""", "syscalls[0]: both name and names")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "action": "SCMP_ACT_ALLOW" } ] }""", "syscalls[0].names: missing")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"] } ] }""", "syscalls[0].action: missing")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000 } ] }""", "errnoRet 70000")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "new" } } ] }""", "syscalls[0].includes.minKernel")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [ { "architecture": "SCMP_ARCH_X86_64" } ] }""", "both architectures and archMap")]
    [InlineData("null", "null")]
    public void Bad_profiles_are_errors_naming_file_and_field(string json, string expected)
    {
        var message = Error(json);
        Assert.StartsWith("seccomp profile custom.json: ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Field_names_match_case_insensitively_and_unknown_fields_are_ignored()
    {
        var profile = Parse("""
            { "DefaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "",
              "Syscalls": [ { "Names": ["mkdir"], "Action": "SCMP_ACT_ERRNO", "ErrnoRet": 28 } ] }
            """);
        var program = profile.Compile(SeccompArch.X86_64, 0, Kernel);
        Assert.Equal(SECCOMP_RET_ERRNO | 28, Decide(program, SeccompAbi.X86_64, "mkdir"));
    }

    [Theory]
    [InlineData("4.8", 4, 8, 0)]
    [InlineData("5.10.1", 5, 10, 1)]
    [InlineData("6.1.0-28-amd64", 6, 1, 0)]
    [InlineData("6.12.34+rpt-rpi-v8", 6, 12, 34)]
    public void Kernel_versions_parse(string text, int major, int minor, int patch) =>
        Assert.Equal(new Version(major, minor, patch), SeccompProfile.ParseKernelVersion(text));

    [Theory]
    [InlineData("")]
    [InlineData("6")]
    [InlineData("new")]
    public void Non_versions_do_not_parse(string text) => Assert.Null(SeccompProfile.ParseKernelVersion(text));

    [Fact]
    public void The_running_kernel_is_known()
    {
        Assert.True(SeccompProfile.RunningKernel >= new Version(3, 17), $"kernel {SeccompProfile.RunningKernel}");
        Assert.Equal(
            SeccompProfile.ParseKernelVersion(File.ReadAllText("/proc/sys/kernel/osrelease").Trim()),
            SeccompProfile.RunningKernel);
    }
}
