using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Monitor;

/// <summary>
/// A container bundle for one monitor test: a root with containers/ID/, a rootfs made of the
/// host's static busybox (bind-mounted by the container's own mount namespace, so nothing is
/// mounted on the host), a run directory, and a plan with the defaults below. Dispose deletes it.
/// </summary>
public sealed class MonitorBundle : IDisposable
{
    private static readonly string[] Applets =
        ["sh", "echo", "cat", "sleep", "printf", "stty", "seq", "head", "true", "false", "ls", "yes", "tr", "hostname", "tty"];

    private readonly TempDirectory _dir = new("hivelet-monitor");

    public MonitorBundle()
    {
        Id = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) +
             Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        Root = _dir.Combine("root");
        Bundle = Path.Combine(Root, "containers", Id);
        RootfsSource = _dir.Combine("rootfs-src");
        RunDir = _dir.Combine("run", Id);
        Directory.CreateDirectory(Path.Combine(Bundle, "rootfs"));
        Directory.CreateDirectory(RunDir);
        foreach (var d in new[] { "bin", "proc", "dev", "tmp", "etc" })
            Directory.CreateDirectory(Path.Combine(RootfsSource, d));
        File.Copy(BusyboxPath, Path.Combine(RootfsSource, "bin", "busybox"));
        foreach (var applet in Applets)
            File.CreateSymbolicLink(Path.Combine(RootfsSource, "bin", applet), "busybox");

        Plan = new PlanFile()
            .Set("version", 1)
            .Set("id", Id)
            .Set("exe", RepoPaths.HiveletBinary)
            .Set("root", Root)
            .Set("bundle", Bundle)
            .Set("run_dir", RunDir)
            .Set("rootfs", Path.Combine(Bundle, "rootfs"))
            .Set("rootfs_mount", "bind", RootfsSource, "")
            .Add("ns", "mnt").Add("ns", "pid").Add("ns", "uts").Add("ns", "ipc")
            .Set("hostname", "monitor-test")
            .Set("uid", 0).Set("gid", 0).Set("groups", "")
            .Set("cwd", "/")
            .Add("env", "PATH=/bin")
            .Set("log_path", LogPath)
            .Set("log_max_size", 0)
            .Set("log_max_files", 1)
            .Set("restart", "no")
            .Set("restart_max", 0);
    }

    /// <summary>The host's static busybox (package busybox-static).</summary>
    public static string BusyboxPath => "/bin/busybox";

    public string Id { get; }
    public string Root { get; }
    public string Bundle { get; }
    public string RootfsSource { get; }
    public string RunDir { get; }
    public PlanFile Plan { get; }
    public string LogPath => Path.Combine(Bundle, Id + "-json.log");
    public string StatusPath => Path.Combine(Bundle, "status");
    public string MonitorLog => Path.Combine(Bundle, "monitor.log");
    public string HealthPath => Path.Combine(RunDir, "health.json");

    /// <summary>A scratch path in the test directory (not in the bundle).</summary>
    public string Scratch(string name) => _dir.Combine(name);

    /// <summary>Sets the container's argv: `sh -c SCRIPT` in the busybox rootfs.</summary>
    public MonitorBundle Shell(string script)
    {
        Plan.Add("arg", "/bin/sh").Add("arg", "-c").Add("arg", script);
        return this;
    }

    public void WritePlan() => Plan.Write(Path.Combine(Bundle, "plan"));

    /// <summary>The status file as key=value pairs (empty when it does not exist yet).</summary>
    public Dictionary<string, string> Status()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(StatusPath))
            return result;
        foreach (var line in File.ReadAllLines(StatusPath))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                result[line[..eq]] = line[(eq + 1)..];
        }
        return result;
    }

    public string Describe() =>
        $"--- status ---\n{(File.Exists(StatusPath) ? File.ReadAllText(StatusPath) : "(none)")}" +
        $"--- monitor.log ---\n{(File.Exists(MonitorLog) ? File.ReadAllText(MonitorLog) : "(none)")}";

    public void Dispose() => _dir.Dispose();
}
