using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Tests.Content;

/// <summary>A state root in a fresh temp directory, deleted with everything in it on dispose.</summary>
public sealed class TempStore : IDisposable
{
    public TempStore()
    {
        Dir = Directory.CreateTempSubdirectory("hivelet-content-").FullName;
        Root = new StoreRoot(Path.Combine(Dir, "root"));
        Content = new LocalContentStore(Root);
        Images = new ImageStore(Root);
        Lock = new StoreLock(Root);
    }

    public string Dir { get; }
    public StoreRoot Root { get; }
    public LocalContentStore Content { get; }
    public ImageStore Images { get; }
    public StoreLock Lock { get; }

    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Stores <paramref name="content"/> and returns its descriptor.</summary>
    public Descriptor Add(byte[] content, string mediaType)
    {
        var digest = Digest.ComputeSha256(content);
        Content.Put(digest, content);
        return new Descriptor { MediaType = mediaType, Digest = digest.ToString(), Size = content.Length };
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
