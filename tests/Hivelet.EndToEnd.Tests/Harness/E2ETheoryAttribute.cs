namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>The [Theory] form of <see cref="E2EFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class E2ETheoryAttribute : TheoryAttribute
{
    public E2ETheoryAttribute(params string[] peers)
    {
        PeerNames = peers;
        Skip = E2EFactAttribute.SkipReason(peers);
    }

    public IReadOnlyList<string> PeerNames { get; }
}
