using Hivelet.Errors;
using Hivelet.Runtime.Spec;

namespace Hivelet.Runtime.Tests.Spec;

public class FlagsTests
{
    [Theory]
    [InlineData("512m", 512L << 20)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("100k", 102400)]
    [InlineData("1024", 1024)]
    [InlineData("1kb", 1024)]
    [InlineData("2MiB", 2L << 20)]
    [InlineData("64M", 64L << 20)]
    public void Sizes_use_dockers_binary_units(string value, long expected)
    {
        Assert.Equal(expected, Flags.ParseBytes(value, "--memory"));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("12x")]
    [InlineData("-1")]
    [InlineData("")]
    public void Bad_sizes_name_the_flag_and_the_value(string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseBytes(value, "--memory"));
        Assert.Equal($"invalid argument \"{value}\" for \"--memory\" flag: invalid size: '{value}'", e.Message);
    }

    [Theory]
    [InlineData("1.5", 1_500_000_000)]
    [InlineData("0.01", 10_000_000)]
    [InlineData("2", 2_000_000_000)]
    public void Cpus_become_nano_cpus(string value, long expected)
    {
        Assert.Equal(expected, Flags.ParseNanoCpus(value, "--cpus"));
    }

    [Fact]
    public void Bad_cpus_are_refused()
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseNanoCpus("lots", "--cpus"));
        Assert.Contains("\"--cpus\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("lots", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("500ms", 500)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0", 0)]
    public void Durations_are_gos(string value, long ms)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(ms), Flags.ParseDuration(value, "--health-interval"));
    }

    [Theory]
    [InlineData("30")]
    [InlineData("1x")]
    [InlineData("s")]
    [InlineData("")]
    [InlineData("1m 30s")]
    public void Bad_durations_are_refused(string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseDuration(value, "--health-interval"));
        Assert.Contains($"time: invalid duration \"{value}\"", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nofile=1024:2048", "nofile", 1024, 2048)]
    [InlineData("nofile=1024", "nofile", 1024, 1024)]
    [InlineData("core=-1", "core", -1, -1)]
    [InlineData("memlock=-1:-1", "memlock", -1, -1)]
    [InlineData("nproc=10:-1", "nproc", 10, -1)]
    public void Ulimits(string value, string name, long soft, long hard)
    {
        var u = Flags.ParseUlimit(value);
        Assert.Equal((name, soft, hard), (u.Name, u.Soft, u.Hard));
    }

    [Theory]
    [InlineData("foo=1", "invalid ulimit type: foo")]
    [InlineData("nofile", "invalid ulimit argument: nofile")]
    [InlineData("nofile=x", "invalid ulimit argument: nofile=x")]
    [InlineData("nofile=2048:1024", "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024")]
    [InlineData("nofile=1:2:3", "too many limit value arguments")]
    public void Bad_ulimits(string value, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseUlimit(value));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dev/gpiomem", "/dev/gpiomem", "/dev/gpiomem", "rwm")]
    [InlineData("/dev/i2c-1:/dev/i2c-0", "/dev/i2c-1", "/dev/i2c-0", "rwm")]
    [InlineData("/dev/video0:r", "/dev/video0", "/dev/video0", "r")]
    [InlineData("/dev/a:/dev/b:rw", "/dev/a", "/dev/b", "rw")]
    public void Devices(string value, string host, string container, string perms)
    {
        var d = Flags.ParseDevice(value);
        Assert.Equal((host, container, perms), (d.PathOnHost, d.PathInContainer, d.CgroupPermissions));
    }

    [Theory]
    [InlineData("/dev/a:/dev/b:x", "invalid device mode: x")]
    [InlineData("/dev/a:/dev/b:rr", "invalid device mode: rr")]
    [InlineData("dev/a", "host path must be absolute")]
    [InlineData("/dev/a:b", "container path must be absolute")]
    [InlineData("/a:/b:rw:x", "invalid device specification: /a:/b:rw:x")]
    public void Bad_devices(string value, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseDevice(value));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Volumes()
    {
        Assert.Equal(new Flags.VolumeSpec("/host", "/ctr", false), Flags.ParseVolume("/host:/ctr"));
        Assert.Equal(new Flags.VolumeSpec("/host", "/ctr", true), Flags.ParseVolume("/host/:/ctr/:ro"));
        var named = Flags.ParseVolume("data:/var/lib/data:rw");
        Assert.Equal(("data", "/var/lib/data", false, false), (named.Source, named.Destination, named.ReadOnly, named.IsBind));
        var anon = Flags.ParseVolume("/scratch");
        Assert.True(anon.IsAnonymous);
        Assert.Equal("/scratch", anon.Destination);
    }

    [Theory]
    [InlineData("/a:rel", "mount path must be absolute")]
    [InlineData("/a:/b:xx", "invalid mode: xx")]
    [InlineData("/a:/b:ro,rw", "invalid mode: ro,rw")]
    [InlineData("bad name:/b", "includes invalid characters for a local volume name")]
    [InlineData("/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'")]
    [InlineData("/a:/", "cannot be a mount point")]
    public void Bad_volumes(string value, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseVolume(value));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no", "no", 0)]
    [InlineData("always", "always", 0)]
    [InlineData("unless-stopped", "unless-stopped", 0)]
    [InlineData("on-failure", "on-failure", 0)]
    [InlineData("on-failure:5", "on-failure", 5)]
    public void Restart_policies(string value, string name, int max)
    {
        var p = Flags.ParseRestart(value);
        Assert.Equal((name, max), (p.Name, p.MaximumRetryCount));
    }

    [Theory]
    [InlineData("sometimes", "invalid restart policy: unknown policy 'sometimes'")]
    [InlineData("always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'")]
    [InlineData("on-failure:x", "invalid restart policy format: maximum retry count must be an integer")]
    public void Bad_restart_policies(string value, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseRestart(value));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("TERM", 15)]
    [InlineData("term", 15)]
    [InlineData("15", 15)]
    [InlineData("SIGKILL", 9)]
    [InlineData("SIGUSR1", 10)]
    [InlineData("SIGWINCH", 28)]
    [InlineData("RTMIN+1", 35)]
    [InlineData("SIGRTMAX", 64)]
    public void Signals(string value, int number)
    {
        Assert.Equal(number, Flags.ParseSignal(value));
    }

    [Theory]
    [InlineData("FOO")]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("SIG")]
    public void Bad_signals(string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => Flags.ParseSignal(value));
        Assert.Equal($"invalid signal: {value}", e.Message);
    }

    [Fact]
    public void Tmpfs_options_start_from_dockers_defaults()
    {
        var (flags, data) = Flags.TmpfsMountOptions("", "/run");
        Assert.Equal(Flags.MS_NOSUID | Flags.MS_NODEV | Flags.MS_NOEXEC, flags);
        Assert.Equal("", data);
        (flags, data) = Flags.TmpfsMountOptions("rw,exec,size=64m,mode=1777", "/run:...");
        Assert.Equal(Flags.MS_NOSUID | Flags.MS_NODEV, flags);
        Assert.Equal("size=67108864,mode=1777", data);
        Assert.Equal(("/run", "ro"), Flags.ParseTmpfs("/run/:ro"));
        Assert.Throws<InvalidInputException>(() => Flags.ParseTmpfs("/run:bogus"));
        Assert.Throws<InvalidInputException>(() => Flags.ParseTmpfs("run"));
    }

    [Theory]
    [InlineData("kernel.shmmax", false)]
    [InlineData("fs.mqueue.msg_max", false)]
    [InlineData("net.ipv4.ip_forward", false)]
    public void Namespaced_sysctls_are_allowed(string name, bool hostNet)
    {
        Sysctls.Validate(name, hostNet);
    }

    [Theory]
    [InlineData("vm.swappiness", false, "is not allowed")]
    [InlineData("kernel.panic", false, "is not allowed")]
    [InlineData("net.ipv4.ip_forward", true, "not allowed in host network namespace")]
    [InlineData("net..x", false, "invalid sysctl name")]
    public void Other_sysctls_are_refused(string name, bool hostNet, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Sysctls.Validate(name, hostNet));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
