namespace Hivelet.Fixtures;

/// <summary>Something a tag can point at: an image manifest or an index, with every blob below it.</summary>
public interface IBuiltRoot
{
    Blob Root { get; }

    IEnumerable<Blob> Blobs();
}
