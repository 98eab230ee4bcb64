using System.Text.RegularExpressions;
using Hivelet.EndToEnd.Tests.Harness;
using Xunit.Abstractions;

namespace Hivelet.EndToEnd.Tests.Vm;

/// <summary>
/// cgroup v2 for real: the arm64 binary inside a VM booting Debian's arm64 kernel with a pure cgroup v2
/// hierarchy (tests/vm). The VM runs once for the class; each [Fact] asserts one of the
/// <c>VMTEST name PASS|FAIL|SKIP detail</c> lines that tests/vm/tests.sh printed on its console.
/// A SKIP (the binary has no <c>run</c> verb yet) passes with the reason written to the test output.
/// </summary>
public sealed partial class CgroupV2VmTests(CgroupV2VmFixture vm, ITestOutputHelper output) : IClassFixture<CgroupV2VmFixture>
{
    [VmFact] public void Version() => AssertPassed("version");

    [VmFact] public void Cgroup_v2_is_the_only_hierarchy() => AssertPassed("cgroup-v2-pure");

    [VmFact] public void Load_and_images() => AssertPassed("load");

    [VmFact] public void Memory_limit_is_memory_max() => AssertPassed("run-memory-max");

    [VmFact] public void Cgroup_namespace_is_private() => AssertPassed("cgroupns-private");

    [VmFact] public void Cpus_is_cpu_max() => AssertPassed("cpu-quota");

    [VmFact] public void Memory_swap_is_swap_max() => AssertPassed("memory-swap");

    [VmFact] public void Pids_limit_is_pids_max() => AssertPassed("pids-limit");

    [VmFact] public void Fork_bomb_stops_at_the_pids_limit() => AssertPassed("fork-bomb");

    [VmFact] public void Memory_hog_is_oom_killed() => AssertPassed("oom-killed");

    [VmFact] public void Group_is_removed_with_the_container() => AssertPassed("group-removed");

    [VmFact] public void Device_outside_the_allow_list_is_denied() => AssertPassed("device-denied");

    [VmFact] public void A_replayed_run_recreates_the_v2_group_limit_and_device_program() => AssertPassed("replayed-run");

    [VmFact] public void Nothing_is_left_after_rm() => AssertPassed("nothing-left");

    /// <summary>Every line tests.sh printed has a [Fact] here, and the VM got to the end.</summary>
    [VmFact]
    public void Every_vm_test_is_asserted_and_the_vm_finished()
    {
        var asserted = typeof(CgroupV2VmTests).GetMethods()
            .Where(m => m.GetCustomAttributes(typeof(VmFactAttribute), false).Length > 0)
            .Count();
        Assert.True(vm.Finished, $"the VM did not print VMTEST-DONE\n{vm.Tail}");
        // One [Fact] per VMTEST line, plus this one.
        Assert.Equal(vm.Results.Count + 1, asserted);
    }

    private void AssertPassed(string name)
    {
        Assert.True(vm.Results.TryGetValue(name, out var result),
            $"the VM printed no `VMTEST {name}` line (booted: {vm.Finished})\n{vm.Tail}");
        output.WriteLine($"VMTEST {name} {result.Verdict} {result.Detail}");
        if (result.Verdict == "SKIP")
        {
            output.WriteLine($"skipped inside the VM: {result.Detail}");
            return;
        }
        Assert.True(result.Verdict == "PASS", $"VMTEST {name} {result.Verdict}: {result.Detail}\n{vm.Tail}");
    }
}

/// <summary>Boots the VM once (tests/vm/run-vm.sh) and parses its console.</summary>
public sealed partial class CgroupV2VmFixture : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(6);

    public Dictionary<string, (string Verdict, string Detail)> Results { get; } = new(StringComparer.Ordinal);

    public bool Finished { get; private set; }

    /// <summary>The last lines of the console (or why the VM did not run), for failure messages.</summary>
    public string Tail { get; private set; } = "";

    /// <summary>Where build-initramfs.sh put vmlinuz and initrd.gz: env HIVELET_VM_DIR, else .build/vm.</summary>
    public static string VmDir =>
        Environment.GetEnvironmentVariable("HIVELET_VM_DIR") is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.Combine(RepoPaths.RepoRoot, ".build", "vm");

    public async Task InitializeAsync()
    {
        if (VmFactAttribute.SkipReason() is not null)
            return;
        var missing = new[] { "vmlinuz", "initrd.gz" }.Where(f => !File.Exists(Path.Combine(VmDir, f))).ToList();
        if (missing.Count > 0)
        {
            Tail = $"{string.Join(", ", missing)} missing in {VmDir}: run tests/vm/build-initramfs.sh {VmDir} " +
                   "(./build.sh test does)";
            return;
        }
        using var temp = new TempDirectory();
        var log = Path.Combine(temp.Path, "console.log");
        var script = Path.Combine(RepoPaths.RepoRoot, "tests", "vm", "run-vm.sh");
        var run = await ProcessRunner.RunAsync(script, [VmDir, log], Bound);
        var console = File.Exists(log) ? await File.ReadAllTextAsync(log) : run.Stdout;
        var lines = console.Split('\n');
        foreach (var line in lines)
        {
            var m = VmTestLine().Match(line);
            if (m.Success)
                Results[m.Groups["name"].Value] = (m.Groups["verdict"].Value, m.Groups["detail"].Value);
        }
        Finished = run.ExitCode == 0 && lines.Any(l => l.TrimEnd() == "VMTEST-DONE");
        Tail = $"--- run-vm.sh exit {run.ExitCode} in {run.Elapsed.TotalSeconds:F0}s; console tail ---\n" +
               string.Join('\n', lines.TakeLast(40)) + $"\n--- stderr ---\n{run.Stderr}";
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [GeneratedRegex(@"^VMTEST (?<name>[a-z0-9-]+) (?<verdict>PASS|FAIL|SKIP) ?(?<detail>.*)$")]
    private static partial Regex VmTestLine();
}

/// <summary>
/// Runs only as root with HIVELET_E2E_VM=1 (./build.sh test sets it, after building the VM's kernel and
/// initramfs); otherwise skipped with the reason.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class VmFactAttribute : FactAttribute
{
    public const string EnableVariable = "HIVELET_E2E_VM";

    public VmFactAttribute() => Skip = SkipReason();

    public static string? SkipReason()
    {
        if (Environment.GetEnvironmentVariable(EnableVariable) != "1")
            return $"the cgroup v2 VM test is opt-in: set {EnableVariable}=1 (./build.sh test does)";
        // qemu itself needs no root; the gate keeps it with the other root end-to-end tests, as CI runs them.
        return Environment.IsPrivilegedProcess ? null : "the cgroup v2 VM test runs with the root tests (run as root)";
    }
}
