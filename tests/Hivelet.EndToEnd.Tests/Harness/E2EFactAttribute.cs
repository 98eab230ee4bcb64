namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// A [Fact] that needs peer programs. Missing peers make the test fail (with the package to
/// install) except when HIVELET_E2E_SKIP_PEERS=1, where the test is reported as skipped.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class E2EFactAttribute : FactAttribute
{
    public E2EFactAttribute(params string[] peers)
    {
        PeerNames = peers;
        if (!Peers.SkipWhenMissing)
            return;
        var missing = Peers.Missing(peers).ToList();
        if (missing.Count > 0)
        {
            Skip = $"{Peers.SkipVariable}=1 and peers missing: " +
                   string.Join(", ", missing.Select(m => $"{m} (apt-get install {Peers.PackageOf(m)})"));
        }
    }

    public IReadOnlyList<string> PeerNames { get; }
}
