namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// The real programs the end-to-end tests talk to, and the Debian package each comes from.
/// A missing peer fails the test with the package to install, unless HIVELET_E2E_SKIP_PEERS=1.
/// </summary>
public static class Peers
{
    public const string SkipVariable = "HIVELET_E2E_SKIP_PEERS";

    public const string Registry = "docker-registry";
    public const string Skopeo = "skopeo";
    public const string Umoci = "umoci";
    public const string Htpasswd = "htpasswd";
    public const string QemuAarch64 = "qemu-aarch64-static";

    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        [Registry] = "docker-registry",
        [Skopeo] = "skopeo",
        [Umoci] = "umoci",
        [Htpasswd] = "apache2-utils",
        [QemuAarch64] = "qemu-user-static",
    };

    public static bool SkipWhenMissing => Environment.GetEnvironmentVariable(SkipVariable) == "1";

    public static string PackageOf(string program) => Packages.GetValueOrDefault(program, program);

    /// <summary>The peer's path; throws <see cref="PeerMissingException"/> naming the package otherwise.</summary>
    public static string Require(string program) =>
        ProcessRunner.Which(program) ?? throw new PeerMissingException(program, PackageOf(program));

    public static IEnumerable<string> Missing(IEnumerable<string> programs) =>
        programs.Where(p => ProcessRunner.Which(p) is null);
}

public sealed class PeerMissingException(string program, string package)
    : Exception($"test peer `{program}` is not installed: apt-get install {package} (./build.sh test installs it), " +
                $"or set {Peers.SkipVariable}=1 to skip tests that need it")
{
    public string Program { get; } = program;
}
