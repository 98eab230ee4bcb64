using Hivelet.Runtime.Spec;

namespace Hivelet.Runtime.Tests.Spec;

public sealed class ForeignBinaryCheckTests : IDisposable
{
    // The first 20 bytes of a little-endian 64-bit ELF executable up to e_machine.
    private static readonly byte[] ElfHead = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0];

    // Debian's qemu-aarch64 registration (binfmt-support's format in /proc/sys/fs/binfmt_misc).
    private const string QemuAarch64 = """
        enabled
        interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
        flags: PF
        offset 0
        magic 7f454c460201010000000000000000000200b700
        mask ffffffffffffff00fffffffffffffffffeffffff
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("hivelet-binfmt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Rootfs => Path.Combine(_dir, "rootfs");

    private string Binfmt => Path.Combine(_dir, "binfmt");

    private void Program(string path, ushort machine)
    {
        var file = Path.Combine(Rootfs, path.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, [.. ElfHead, (byte)machine, (byte)(machine >> 8), 1, 0, 0, 0, .. new byte[100]]);
    }

    private void Handlers(bool enabled, params (string Name, string Text)[] entries)
    {
        if (Directory.Exists(Binfmt))
            Directory.Delete(Binfmt, recursive: true);
        Directory.CreateDirectory(Binfmt);
        File.WriteAllText(Path.Combine(Binfmt, "status"), enabled ? "enabled\n" : "disabled\n");
        File.WriteAllText(Path.Combine(Binfmt, "register"), "");
        foreach (var (name, text) in entries)
            File.WriteAllText(Path.Combine(Binfmt, name), text + "\n");
    }

    [Fact]
    public void AnArm64ProgramOnAnAmd64HostWithoutAHandlerNamesTheArchitectureAndWhatToInstall()
    {
        Program("/bin/busybox", 183);
        Directory.CreateDirectory(Path.Combine(Rootfs, "usr", "bin"));
        File.CreateSymbolicLink(Path.Combine(Rootfs, "usr", "bin", "sh"), "/bin/busybox");
        Handlers(enabled: true);

        var problem = ForeignBinaryCheck.Problem(Rootfs, "sh", ["PATH=/usr/bin:/bin"], "amd64", Binfmt);

        Assert.Equal("sh is a linux/arm64 program and this linux/amd64 host has no binfmt_misc handler for it: " +
            "install qemu-user-static and binfmt-support (Debian, Raspberry Pi OS: apt-get install qemu-user-static binfmt-support), " +
            "or use an image for linux/amd64", problem);
    }

    [Fact]
    public void AMatchingEnabledHandlerOrANativeProgramIsFine()
    {
        Program("/bin/app", 183);
        Handlers(enabled: true, ("qemu-aarch64", QemuAarch64));
        Assert.Null(ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "amd64", Binfmt));
        Assert.Null(ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "arm64", Binfmt));

        Handlers(enabled: true, ("qemu-aarch64", QemuAarch64.Replace("enabled", "disabled", StringComparison.Ordinal)));
        Assert.NotNull(ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "amd64", Binfmt));
        Handlers(enabled: false, ("qemu-aarch64", QemuAarch64));
        Assert.NotNull(ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "amd64", Binfmt));
        // A handler for another machine (qemu-arm) does not run arm64 programs.
        Handlers(enabled: true, ("qemu-arm", QemuAarch64.Replace("0200b700", "02002800", StringComparison.Ordinal)));
        Assert.NotNull(ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "amd64", Binfmt));
    }

    [Fact]
    public void ScriptsMissingProgramsAndNoBinfmtMountAreLeftToTheStart()
    {
        Directory.CreateDirectory(Path.Combine(Rootfs, "bin"));
        File.WriteAllText(Path.Combine(Rootfs, "bin", "run.sh"), "#!/bin/sh\necho hi\n");
        Assert.Null(ForeignBinaryCheck.Problem(Rootfs, "/bin/run.sh", [], "amd64", Binfmt));
        Assert.Null(ForeignBinaryCheck.Problem(Rootfs, "nosuch", [], "amd64", Binfmt));
        Program("/bin/app", 40);
        Assert.StartsWith("/bin/app is a linux/arm program and ", ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "amd64", Binfmt), StringComparison.Ordinal);
        Assert.Null(ForeignBinaryCheck.Problem(Rootfs, "/bin/app", [], "arm64", Binfmt));
    }

    [Fact]
    public void SymlinksResolveInsideTheRootAndNeverLeaveIt()
    {
        Program("/opt/app/bin/tool", 62);
        Directory.CreateDirectory(Path.Combine(Rootfs, "usr", "local", "bin"));
        File.CreateSymbolicLink(Path.Combine(Rootfs, "usr", "local", "bin", "tool"), "../../../opt/app/bin/tool");
        File.CreateSymbolicLink(Path.Combine(Rootfs, "usr", "local", "bin", "escape"), "../../../../../../etc/passwd");
        Assert.Equal(Path.Combine(Rootfs, "opt/app/bin/tool"), ForeignBinaryCheck.Resolve(Rootfs, "/usr/local/bin/tool"));
        Assert.Null(ForeignBinaryCheck.Resolve(Rootfs, "/usr/local/bin/escape"));
    }
}
