using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>
/// A CLI with the fixture image loaded; on dispose every container it created is removed with
/// `rm -f` (cgroups, snapshots, bundles) before the temp root goes, even when the test failed.
/// </summary>
public sealed class ContainerCli : IDisposable
{
    public ContainerCli()
    {
        Cli = new HiveletCli();
        var archive = Path.Combine(RepoPaths.FixturesDir, "hivelet-fixture.tar");
        if (!File.Exists(archive))
            throw new FileNotFoundException($"{archive} is missing: run ./build.sh fixtures");
        Cli.RunOkAsync("load", "-i", archive).GetAwaiter().GetResult();
    }

    public HiveletCli Cli { get; }

    public const string Image = "hivelet/fixture:latest";

    public string ContainersDir => Path.Combine(Cli.Root, "containers");

    public static bool Privileged => Environment.IsPrivilegedProcess;

    public void Dispose()
    {
        try
        {
            var ids = Cli.RunAsync("ps", "-aq", "--no-trunc").GetAwaiter().GetResult().Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length > 0)
                Cli.RunAsync(["rm", "-f", .. ids]).GetAwaiter().GetResult();
        }
        finally
        {
            Cli.Dispose();
        }
    }
}
