namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>
/// The lifecycle classes run one after another: they start real containers with cgroup limits and
/// measure CPU use, which parallel classes on a two-core machine would disturb.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LifecycleCollection
{
    public const string Name = "Lifecycle containers";
}
