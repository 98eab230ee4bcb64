using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;
using Hivelet.Interop;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// The cross-built arm64 binary, run through the kernel's qemu-aarch64 binfmt handler, pulls the
/// multi-arch index and picks linux/arm64/v8 by itself. Under qemu-user openat2 fails with ENOSYS,
/// so this also covers the layer applier's fallback path walk.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class Arm64BinaryTests(RegistryFixture fixture)
{
    private const int ElfAArch64 = 183;

    [Arm64BinaryFact]
    public async Task Arm64_binary_under_binfmt_pulls_the_arm64_image_and_unpacks_it()
    {
        Assert.Null(Arm64BinaryFactAttribute.Missing());
        var index = PlatformTests.BusyboxIndex(ManifestFormat.Oci);
        var reference = await PullSupport.PushAsync(fixture.Registry, "arm64/busybox", "multi", index);
        using var cli = new HiveletCli(Arm64BinaryFactAttribute.Binary) { Timeout = TimeSpan.FromMinutes(4) };
        // The binary is dynamically linked. With Debian's libc6:arm64 and libssl3:arm64 installed (build.sh
        // test does that) the loader and libraries come from the host's multiarch paths. Only without them,
        // qemu takes the loader from the cross sysroot; mixing the two glibc builds makes the runtime spin.
        if (!File.Exists("/lib/ld-linux-aarch64.so.1"))
            cli.Environment["QEMU_LD_PREFIX"] = Arm64BinaryFactAttribute.Sysroot;

        var pull = (await cli.RunAsync("pull", reference)).EnsureSuccess();

        Assert.Contains("(linux/arm64/v8)", pull.Stdout, StringComparison.Ordinal);
        var inspect = await PullSupport.InspectAsync(cli, reference);
        Assert.Equal("arm64", PullSupport.StringOf(inspect, "Architecture"));
        Assert.Equal("v8", PullSupport.StringOf(inspect, "Variant"));
        var chosen = index.Images.Single(i => i.Platform.Architecture == "arm64");
        Assert.Equal(chosen.ImageId.ToString(), PullSupport.StringOf(inspect, "Id"));
        var fs = PullSupport.SnapshotFs(cli.Root, PullSupport.ChainIds(chosen)[^1]);
        Assert.Equal(ElfAArch64, PullSupport.ElfMachine(Path.Combine(fs, "bin", "busybox")));
        Assert.Equal("busybox", Sys.ReadLink(Path.Combine(fs, "bin", "sh")));
        Assert.Equal(0x1c0u, Sys.LStat(Path.Combine(fs, "root")).Permissions);
    }

    /// <summary>
    /// Under qemu-user 7.2 (no clone(CLONE_NEW*), no PR_SET_CHILD_SUBREAPER) pid 1 comes from
    /// unshare(CLONE_NEWPID), fork and setns back, and its parent reaps it and passes its status on.
    /// `__run` is C only: the .NET runtime never starts.
    /// </summary>
    [Arm64BinaryFact]
    public async Task Arm64_binary_under_qemu_user_runs_a_container_and_returns_its_exit_code()
    {
        Assert.Null(Arm64BinaryFactAttribute.Missing());
        if (!Environment.IsPrivilegedProcess)
        {
            Console.WriteLine("skipped: __run needs root");
            return;
        }
        using var box = new Native.NativeSandbox(Arm64BinaryFactAttribute.Binary);
        var run = await box.RunAsync(box.DefaultPlan("sh", "-c", "echo pid=$$; exit 3"), TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("pid=1", run.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>
/// Opt-in with HIVELET_E2E_ARM64=1. Then it runs when artifacts/linux-arm64/hivelet (or HIVELET_ARM64_BIN)
/// exists, the arm64 loader is in the cross sysroot and qemu-aarch64 is registered with binfmt_misc;
/// otherwise the test fails saying what is missing, or is skipped when HIVELET_E2E_SKIP_PEERS=1.
/// The binary also needs libssl3:arm64 (multiarch) for hashing.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class Arm64BinaryFactAttribute : FactAttribute
{
    private const string BinfmtEntry = "/proc/sys/fs/binfmt_misc/qemu-aarch64";

    public const string EnableVariable = "HIVELET_E2E_ARM64";

    public Arm64BinaryFactAttribute()
    {
        // Known problem: the arm64 native-AOT binary spins at startup under qemu-user on the lab machine
        // (even `hivelet version` does not finish in 60 s), so the test is opt-in until that is fixed.
        if (Environment.GetEnvironmentVariable(EnableVariable) != "1")
        {
            Skip = $"the arm64 binary does not start under qemu-user here; set {EnableVariable}=1 to run it";
            return;
        }
        var missing = Missing();
        if (missing is not null && Peers.SkipWhenMissing)
            Skip = $"{Peers.SkipVariable}=1 and {missing}";
    }

    public static string Sysroot =>
        Environment.GetEnvironmentVariable("HIVELET_ARM64_SYSROOT") is { Length: > 0 } root ? root : "/usr/aarch64-linux-gnu";

    public static string Binary =>
        Environment.GetEnvironmentVariable("HIVELET_ARM64_BIN") is { Length: > 0 } bin
            ? Path.GetFullPath(bin)
            : Path.Combine(RepoPaths.RepoRoot, "artifacts", "linux-arm64", "hivelet");

    /// <summary>What is missing to run the arm64 binary here, or null.</summary>
    public static string? Missing()
    {
        if (!File.Exists(Binary))
            return $"{Binary} is missing (./build.sh arm64)";
        if (!File.Exists(Path.Combine(Sysroot, "lib", "ld-linux-aarch64.so.1")))
            return $"the arm64 sysroot {Sysroot} has no lib/ld-linux-aarch64.so.1 (apt-get install libc6-dev-arm64-cross)";
        bool enabled;
        try
        {
            enabled = File.Exists(BinfmtEntry) && File.ReadLines(BinfmtEntry).FirstOrDefault() == "enabled";
        }
        catch (IOException)
        {
            enabled = false;
        }
        return enabled ? null : "qemu-aarch64 is not registered with binfmt_misc (apt-get install qemu-user-static; ./build.sh test registers it)";
    }
}
