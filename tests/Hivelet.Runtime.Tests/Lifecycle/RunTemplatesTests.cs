using System.Text;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Lifecycle;
using Hivelet.Runtime.Spec;

namespace Hivelet.Runtime.Tests.Lifecycle;

public sealed class RunTemplatesTests
{
    [Theory]
    [InlineData("", "cbf29ce484222325")]
    [InlineData("a", "af63dc4c8601ec8c")]
    [InlineData("foobar", "85944171f73967e8")]
    public void File_names_are_fnv1a_64_as_native_fastrun_computes_them(string key, string expected) =>
        Assert.Equal(expected, RunTemplates.FileName(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void The_key_is_every_argument_then_the_set_variables_each_nul_terminated()
    {
        var env = new Dictionary<string, string?> { ["HIVELET_CONFIG"] = "/etc/x.json", ["HOME"] = "/root" };
        var key = RunTemplates.Key(["--root", "/r", "run", "--rm", "img", "echo", "héllo"], n => env.GetValueOrDefault(n));
        Assert.Equal("--root\0/r\0run\0--rm\0img\0echo\0héllo\0HIVELET_CONFIG=/etc/x.json\0", Encoding.UTF8.GetString(key));
        var empty = RunTemplates.Key(["run", "img"], _ => "");
        Assert.Equal("run\0img\0HIVELET_ROOT=\0HIVELET_CONFIG=\0", Encoding.UTF8.GetString(empty));
    }

    [Fact]
    public void A_plain_attached_run_of_a_native_image_is_eligible()
    {
        var options = new RunOptions { Image = "busybox", AutoRemove = true, Env = ["A=1"], SecurityOpt = ["no-new-privileges", "seccomp=unconfined"] };
        Assert.Null(RunTemplates.Ineligible(options, Native(), pull: "missing"));
        Assert.Null(RunTemplates.Ineligible(options, Native(), pull: null));
    }

    [Theory]
    [InlineData("detach")]
    [InlineData("tty")]
    [InlineData("interactive")]
    [InlineData("volume")]
    [InlineData("device")]
    [InlineData("env-file")]
    [InlineData("env-from-caller")]
    [InlineData("seccomp-file")]
    [InlineData("privileged")]
    [InlineData("host-network")]
    public void What_a_replay_cannot_repeat_exactly_is_refused(string what)
    {
        var o = new RunOptions { Image = "busybox" };
        switch (what)
        {
            case "detach": o.Detach = true; break;
            case "tty": o.Tty = true; break;
            case "interactive": o.Interactive = true; break;
            case "volume": o.Volumes.Add("/srv:/srv"); break;
            case "device": o.Devices.Add("/dev/i2c-1"); break;
            case "env-file": o.EnvFiles.Add("/etc/app.env"); break;
            case "env-from-caller": o.Env.Add("HOME"); break;
            case "seccomp-file": o.SecurityOpt.Add("seccomp=/etc/profile.json"); break;
            case "privileged": o.Privileged = true; break;
            case "host-network": o.Network = "host"; break;
        }
        Assert.NotNull(RunTemplates.Ineligible(o, Native(), pull: null));
    }

    [Fact]
    public void Image_volumes_a_pull_every_time_and_foreign_images_are_refused()
    {
        var o = new RunOptions { Image = "busybox" };
        var withVolume = Native();
        withVolume.Mounts.Add(new MountPoint { Type = "volume", Destination = "/data" });
        Assert.NotNull(RunTemplates.Ineligible(o, withVolume, pull: null));
        Assert.NotNull(RunTemplates.Ineligible(o, Native(), pull: "always"));
        var foreign = Native();
        foreign.Architecture = ForeignBinaryCheck.HostArchitecture == "arm64" ? "amd64" : "arm64";
        Assert.NotNull(RunTemplates.Ineligible(o, foreign, pull: null));
    }

    [Fact]
    public void A_signature_names_the_file_and_changes_with_it_and_a_missing_file_is_a_dash()
    {
        var dir = Directory.CreateTempSubdirectory("hivelet-tpl-");
        try
        {
            var path = Path.Combine(dir.FullName, "f");
            Assert.Equal("-", RunTemplates.Signature(path));
            File.WriteAllText(path, "one");
            var first = RunTemplates.Signature(path);
            var fields = first.Split(':');
            Assert.Equal(5, fields.Length);
            Assert.Equal("3", fields[3]);
            File.WriteAllText(path + ".new", "three");
            File.Move(path + ".new", path, overwrite: true);
            Assert.NotEqual(first, RunTemplates.Signature(path));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static ContainerRecord Native() => new() { Architecture = ForeignBinaryCheck.HostArchitecture };
}
