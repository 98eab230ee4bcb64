namespace Hivelet.Fixtures;

/// <summary>Binaries the fixture sets embed, from --key=PATH arguments or environment variables.</summary>
public sealed class FixtureInputs
{
    public string? FixtureAmd64 { get; init; }
    public string? FixtureArm64 { get; init; }
    public string? BusyboxAmd64 { get; init; }
    public string? BusyboxArm64 { get; init; }
    public string? BusyboxArmhf { get; init; }

    /// <summary>
    /// Options win over environment variables, which win over the places build.sh puts things:
    /// OUTDIR/bin/fixture-ARCH and OUTDIR/../peers/busybox-ARCH/bin/busybox.
    /// </summary>
    public static FixtureInputs FromArgs(IEnumerable<string> args, string outDir)
    {
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in args)
        {
            int eq = a.IndexOf('=');
            if (!a.StartsWith("--", StringComparison.Ordinal) || eq < 0)
                throw new ArgumentException($"unexpected argument \"{a}\": options are --name=value");
            opts[a[2..eq]] = a[(eq + 1)..];
        }
        string Get(string key, string env, string fallback) =>
            opts.GetValueOrDefault(key) ?? (Environment.GetEnvironmentVariable(env) is { Length: > 0 } v ? v : fallback);
        string Busybox(string arch) => Path.Combine(outDir, "..", "peers", $"busybox-{arch}", "bin", "busybox");
        return new FixtureInputs
        {
            FixtureAmd64 = Get("fixture-amd64", "HIVELET_FIXTURE_AMD64", Path.Combine(outDir, "bin", "fixture-amd64")),
            FixtureArm64 = Get("fixture-arm64", "HIVELET_FIXTURE_ARM64", Path.Combine(outDir, "bin", "fixture-arm64")),
            BusyboxAmd64 = Get("busybox-amd64", "HIVELET_BUSYBOX_AMD64", Busybox("amd64")),
            BusyboxArm64 = Get("busybox-arm64", "HIVELET_BUSYBOX_ARM64", Busybox("arm64")),
            BusyboxArmhf = Get("busybox-armhf", "HIVELET_BUSYBOX_ARMHF", Busybox("armhf")),
        };
    }

    public byte[] Read(string? path, string what)
    {
        if (string.IsNullOrEmpty(path))
            throw new ArgumentException($"{what}: no path given (see ImageBuilder usage)");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{what}: \"{path}\" does not exist (run ./build.sh fixtures)");
        return File.ReadAllBytes(path);
    }
}
