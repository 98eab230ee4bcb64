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
        Skip = SkipReason(peers);
    }

    /// <summary>Why to skip: only when HIVELET_E2E_SKIP_PEERS=1 and a peer is missing; else null.</summary>
    internal static string? SkipReason(IEnumerable<string> peers)
    {
        if (!Peers.SkipWhenMissing)
            return null;
        var missing = Peers.Missing(peers).ToList();
        return missing.Count == 0
            ? null
            : $"{Peers.SkipVariable}=1 and peers missing: " +
              string.Join(", ", missing.Select(m => $"{m} (apt-get install {Peers.PackageOf(m)})"));
    }

    public IReadOnlyList<string> PeerNames { get; }
}
