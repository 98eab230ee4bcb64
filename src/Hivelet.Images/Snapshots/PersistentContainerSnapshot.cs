namespace Hivelet.Images.Snapshots;

/// <summary>
/// The handle of a container snapshot: the file system outlives it and is removed only by
/// <see cref="ISnapshotter.RemoveContainer"/>. Containers are not layers, so Commit is refused.
/// </summary>
internal sealed class PersistentContainerSnapshot(string path) : IActiveSnapshot
{
    public string Path { get; } = path;

    public void Commit(Oci.Digest chainId) =>
        throw new InvalidOperationException("a container snapshot cannot be committed as a layer");

    public void Dispose()
    {
    }
}
