namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>Where the repository, the published binary and the built fixtures are.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The directory holding Runtime.sln, found by walking up from the test assembly.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>env HIVELET_BIN, else artifacts/linux-x64/hivelet.</summary>
    public static string HiveletBinary =>
        Environment.GetEnvironmentVariable("HIVELET_BIN") is { Length: > 0 } bin
            ? Path.GetFullPath(bin)
            : Path.Combine(RepoRoot, "artifacts", "linux-x64", "hivelet");

    /// <summary>env HIVELET_FIXTURES, else artifacts/fixtures (written by ./build.sh fixtures).</summary>
    public static string FixturesDir =>
        Environment.GetEnvironmentVariable("HIVELET_FIXTURES") is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.Combine(RepoRoot, "artifacts", "fixtures");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Runtime.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"Runtime.sln not found above {AppContext.BaseDirectory}");
    }
}
