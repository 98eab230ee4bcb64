using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Spec;
using Hivelet.Runtime.Volumes;

namespace Hivelet.Runtime.Tests.Spec;

public sealed class ContainerFactoryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly VolumeStore _volumes;

    public ContainerFactoryTests()
    {
        _volumes = new VolumeStore(_dir.Path);
    }

    public void Dispose() => _dir.Dispose();

    private ContainerRecord Create(RunOptions o, ImageConfig image) =>
        ContainerFactory.Create(o, image, "sha256:" + Images.Id, "chain", Images.Id, "web", _volumes);

    private static RunOptions Run(params string[] command) => new() { Image = "busybox", Command = [.. command] };

    // Docker's run reference: ENTRYPOINT + CMD, replaced by --entrypoint and by arguments.
    [Theory]
    [InlineData(null, new string[0], new[] { "/ep", "c1" })]
    [InlineData(null, new[] { "a" }, new[] { "/ep", "a" })]
    [InlineData("/x", new string[0], new[] { "/x" })]
    [InlineData("/x", new[] { "a", "b" }, new[] { "/x", "a", "b" })]
    [InlineData("", new string[0], new[] { "c1" })]
    [InlineData("", new[] { "a" }, new[] { "a" })]
    public void Entrypoint_and_cmd_matrix(string? entrypoint, string[] args, string[] argv)
    {
        var o = Run(args);
        o.Entrypoint = entrypoint;
        var r = Create(o, Images.Make(entrypoint: ["/ep"], cmd: ["c1"]));
        Assert.Equal(argv, new[] { r.Path }.Concat(r.Args).ToArray());
    }

    [Fact]
    public void Cmd_only_image_is_replaced_by_arguments()
    {
        var r = Create(Run("echo", "hi"), Images.Make(cmd: ["sh"]));
        Assert.Equal(["echo", "hi"], [r.Path, .. r.Args]);
        Assert.Null(r.Config.Entrypoint);
        Assert.Equal(["echo", "hi"], r.Config.Cmd!);
    }

    [Fact]
    public void No_command_anywhere_is_an_error()
    {
        var e = Assert.Throws<InvalidInputException>(() => Create(Run(), Images.Make()));
        Assert.Contains("no command specified", e.Message, StringComparison.Ordinal);
        var o = Run();
        o.Entrypoint = "/x";
        Assert.Throws<InvalidInputException>(() => Create(Run(), Images.Make(entrypoint: [""])));
    }

    [Fact]
    public void Env_flags_win_over_env_files_which_win_over_the_image()
    {
        var file = _dir.WriteFile("env.list", "# comment\n\nB=3\n  C=4\nUNSET_IN_HOST_FOR_TEST_4242\n");
        var o = Run("true");
        o.EnvFiles.Add(file);
        o.Env.AddRange(["C=5", "D=", "UNSET_IN_HOST_FOR_TEST_4243"]);
        var r = Create(o, Images.Make(env: ["A=1", "B=2", "PATH=/img/bin"]));
        Assert.Equal(["B=3", "C=5", "D=", "A=1", "PATH=/img/bin"], r.Config.Env);
    }

    [Fact]
    public void Env_from_the_callers_environment_when_only_a_name_is_given()
    {
        var o = Run("true");
        o.Env.Add("PATH");
        var r = Create(o, Images.Make());
        Assert.Equal(["PATH=" + Environment.GetEnvironmentVariable("PATH")], r.Config.Env);
    }

    [Theory]
    [InlineData("A B=1", "variable 'A B' contains whitespaces")]
    [InlineData("=1", "invalid environment variable: =1")]
    public void Bad_env(string value, string message)
    {
        var o = Run("true");
        o.Env.Add(value);
        var e = Assert.Throws<InvalidInputException>(() => Create(o, Images.Make()));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void User_workdir_labels_and_stop_signal_merge_with_the_image()
    {
        var image = Images.Make(cmd: ["sh"], user: "nobody", workdir: "/app",
            labels: new() { ["a"] = "1", ["b"] = "2" }, stopSignal: "SIGQUIT");
        var r = Create(Run(), image);
        Assert.Equal(("nobody", "/app", "SIGQUIT"), (r.Config.User, r.Config.WorkingDir, r.Config.StopSignal));
        var o = Run();
        o.User = "1000:1000";
        o.Workdir = "/srv/";
        o.Labels.AddRange(["b=3", "c"]);
        o.StopSignal = "TERM";
        o.StopTimeout = "20";
        r = Create(o, image);
        Assert.Equal(("1000:1000", "/srv", "TERM", 20), (r.Config.User, r.Config.WorkingDir, r.Config.StopSignal, r.Config.StopTimeout!.Value));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "3", ["c"] = "" }, r.Config.Labels);
    }

    [Theory]
    [InlineData("a:b:c")]
    [InlineData(":g")]
    [InlineData("u:")]
    public void Bad_user_forms(string user)
    {
        var o = Run("true");
        o.User = user;
        var e = Assert.Throws<InvalidInputException>(() => Create(o, Images.Make()));
        Assert.Contains("\"--user\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relative_workdir_is_refused()
    {
        var o = Run("true");
        o.Workdir = "app";
        var e = Assert.Throws<InvalidInputException>(() => Create(o, Images.Make()));
        Assert.Equal("the working directory 'app' is invalid, it needs to be an absolute path", e.Message);
    }

    [Fact]
    public void Healthcheck_flags_merge_with_the_image()
    {
        var image = Images.Make(cmd: ["sh"], health: new HealthConfig { Test = ["CMD", "check"], Interval = 5_000_000_000, Retries = 7 });
        var r = Create(Run(), image);
        Assert.Equal(["CMD", "check"], r.Config.Healthcheck!.Test!);

        var o = Run();
        o.HealthCmd = "curl -f http://localhost/";
        o.HealthTimeout = "1m30s";
        r = Create(o, image);
        var h = r.Config.Healthcheck!;
        Assert.Equal(["CMD-SHELL", "curl -f http://localhost/"], h.Test!);
        Assert.Equal((5_000_000_000L, 90_000_000_000L, 7), (h.Interval!.Value, h.Timeout!.Value, h.Retries!.Value));

        o = Run();
        o.NoHealthcheck = true;
        Assert.Equal(["NONE"], Create(o, image).Config.Healthcheck!.Test!);
        o.HealthRetries = "2";
        var e = Assert.Throws<InvalidInputException>(() => Create(o, image));
        Assert.Equal("--no-healthcheck conflicts with --health-* options", e.Message);
    }

    [Fact]
    public void Defaults_hostname_network_logs_and_shm()
    {
        var r = Create(Run("true"), Images.Make());
        Assert.Equal(Images.Id[..12], r.Config.Hostname);
        Assert.Equal("/web", r.Name);
        Assert.Equal("none", r.HostConfig.NetworkMode);
        Assert.Equal(64L << 20, r.HostConfig.ShmSize);
        Assert.Equal("json-file", r.HostConfig.LogConfig.Type);
        Assert.Equal("10m", r.HostConfig.LogConfig.Config["max-size"]);
        Assert.Equal("3", r.HostConfig.LogConfig.Config["max-file"]);
        Assert.Equal("no", r.HostConfig.RestartPolicy.Name);
        Assert.Equal(("sha256:" + Images.Id, "busybox", "chain"), (r.Image, r.ImageRef, r.TopChainId));
    }

    [Fact]
    public void Host_network_takes_the_hosts_hostname()
    {
        var o = Run("true");
        o.Network = "host";
        Assert.Equal(Environment.MachineName, Create(o, Images.Make()).Config.Hostname);
    }

    [Theory]
    [InlineData("bridge")]
    [InlineData("container:x")]
    public void Unsupported_networks_are_refused(string network)
    {
        var o = Run("true");
        o.Network = network;
        var e = Assert.Throws<InvalidInputException>(() => Create(o, Images.Make()));
        Assert.Contains("--network", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resources_are_converted_to_dockers_units()
    {
        var o = Run("true");
        (o.Memory, o.MemorySwap, o.Cpus, o.CpuShares, o.PidsLimit, o.BlkioWeight, o.CpusetCpus) =
            ("512m", "1g", "0.5", "512", "100", "300", "0-1");
        o.Ulimits.AddRange(["nofile=1024:2048", "nofile=10:20", "core=0"]);
        o.Devices.Add("/dev/null:/dev/mynull:rw");
        o.Sysctls.Add("net.ipv4.ip_forward=1");
        o.Tmpfs.Add("/run:size=1m");
        var h = Create(o, Images.Make()).HostConfig;
        Assert.Equal((512L << 20, 1L << 30, 500_000_000L, 512L, 100L, 300, "0-1"),
            (h.Memory, h.MemorySwap, h.NanoCpus, h.CpuShares, h.PidsLimit!.Value, h.BlkioWeight, h.CpusetCpus));
        Assert.Equal(2, h.Ulimits!.Count);
        Assert.Equal((10L, 20L), (h.Ulimits.Single(u => u.Name == "nofile").Soft, h.Ulimits.Single(u => u.Name == "nofile").Hard));
        Assert.Equal("/dev/mynull", h.Devices!.Single().PathInContainer);
        Assert.Equal("1", h.Sysctls!["net.ipv4.ip_forward"]);
        Assert.Equal("size=1m", h.Tmpfs!["/run"]);
    }

    [Theory]
    [InlineData("Memory", "4m", "Minimum memory limit allowed is 6MB")]
    [InlineData("MemorySwap", "1g", "You should always set the Memory limit when using Memoryswap limit, see usage")]
    [InlineData("BlkioWeight", "5", "Range of blkio weight is from 10 to 1000")]
    [InlineData("OomScoreAdj", "1001", "Invalid value 1001, range for oom score adj is [-1000, 1000]")]
    [InlineData("CpusetCpus", "0-", "Invalid value 0- for cpuset cpus")]
    [InlineData("Restart", "sometimes", "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")]
    [InlineData("PidsLimit", "many", "invalid argument \"many\" for \"--pids-limit\" flag")]
    public void Bad_resources(string flag, string value, string message)
    {
        var o = Run("true");
        typeof(RunOptions).GetProperty(flag)!.SetValue(o, value);
        var e = Assert.Throws<InvalidInputException>(() => Create(o, Images.Make()));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conflicting_and_bad_options()
    {
        var o = Run("true");
        o.AutoRemove = true;
        o.Restart = "always";
        Assert.Equal("conflicting options: cannot specify both --restart and --rm",
            Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message);

        o = Run("true");
        o.Sysctls.Add("net.ipv4.ip_forward=1");
        o.Network = "host";
        Assert.Contains("not allowed in host network namespace",
            Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message, StringComparison.Ordinal);

        o = Run("true");
        o.SecurityOpt.Add("wizardry=on");
        Assert.Equal("invalid --security-opt: \"wizardry=on\"", Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message);

        o = Run("true");
        o.LogOpts.Add("max-bytes=1");
        Assert.Equal("unknown log opt 'max-bytes' for json-file log driver", Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message);

        o = new RunOptions { Image = "Busybox", Command = ["true"] };
        Assert.Contains("invalid reference format", Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message, StringComparison.Ordinal);

        o = Run("true");
        o.CapAdd.Add("FLY");
        Assert.Contains("unknown capability: \"FLY\"", Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seccomp_file_is_embedded_and_no_new_privileges_kept()
    {
        var profile = _dir.WriteFile("profile.json", "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }");
        var o = Run("true");
        o.SecurityOpt.AddRange(["seccomp=" + profile, "no-new-privileges"]);
        var h = Create(o, Images.Make()).HostConfig;
        Assert.Equal(["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "no-new-privileges"], h.SecurityOpt!);
        Assert.True(BundleWriter.NoNewPrivileges(h));

        o = Run("true");
        o.SecurityOpt.Add("seccomp=" + _dir.Sub("missing.json"));
        Assert.StartsWith("opening seccomp profile (", Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Volumes_binds_and_the_images_volumes()
    {
        var hostDir = _dir.Sub("made-by-run");
        var o = Run("true");
        o.Volumes.AddRange([hostDir + ":/srv:ro", "cache:/cache", "/scratch"]);
        var r = Create(o, Images.Make(volumes: ["/cache", "/var/lib/db/", "/scratch"]));
        Assert.True(Directory.Exists(hostDir));
        Assert.Equal(["/srv", "/cache", "/scratch", "/var/lib/db"], r.Mounts.Select(m => m.Destination));
        var bind = r.Mounts[0];
        Assert.Equal(("bind", hostDir, false), (bind.Type, bind.Source, bind.RW));
        var named = r.Mounts[1];
        Assert.Equal(("volume", "cache", _volumes.DataPath("cache"), false), (named.Type, named.Name, named.Source, named.Anonymous));
        Assert.True(r.Mounts[2].Anonymous);
        Assert.True(r.Mounts[3].Anonymous);
        Assert.Equal(3, _volumes.List().Count);
        Assert.Equal([hostDir + ":/srv:ro", "cache:/cache"], r.HostConfig.Binds!);
    }

    [Fact]
    public void Duplicate_mount_points_are_refused_before_any_volume_is_made()
    {
        var o = Run("true");
        o.Volumes.AddRange(["aa:/data", "bb:/data"]);
        Assert.Equal("Duplicate mount point: /data", Assert.Throws<InvalidInputException>(() => Create(o, Images.Make())).Message);
        Assert.Empty(_volumes.List());
    }

    [Fact]
    public void Tmpfs_covers_an_image_volume()
    {
        var o = Run("true");
        o.Tmpfs.Add("/data");
        var r = Create(o, Images.Make(volumes: ["/data"]));
        Assert.Empty(r.Mounts);
    }

    [Theory]
    [InlineData("web-1")]
    [InlineData("a.b_c")]
    public void Good_names(string name) => ContainerFactory.ValidateName(name);

    [Theory]
    [InlineData("-x")]
    [InlineData("a")]
    [InlineData("a b")]
    public void Bad_names(string name) =>
        Assert.StartsWith($"Invalid container name ({name})", Assert.Throws<InvalidInputException>(() => ContainerFactory.ValidateName(name)).Message, StringComparison.Ordinal);
}
