using Hivelet.Images.Archives;
using Hivelet.Images.Content;
using Hivelet.Images.Platforms;
using Hivelet.Images.Pulling;
using Hivelet.Images.Tests.Registry;

namespace Hivelet.Images.Tests.Archives;

/// <summary>A state root in a temp directory with a content store and image records; removed at dispose.</summary>
internal sealed class StoreFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public StoreFixture()
    {
        Root = new StoreRoot(_dir.Combine("root"));
        Content = new LocalContentStore(Root);
        Images = new ImageStore(Root);
        Lock = new StoreLock(Root);
    }

    public StoreRoot Root { get; }
    public LocalContentStore Content { get; }
    public ImageStore Images { get; }
    public StoreLock Lock { get; }

    /// <summary>A scratch path outside the state root.</summary>
    public string Scratch(string name) => _dir.Combine(name);

    /// <summary>A loader that picks linux/amd64 from indexes; no unpack unless given an unpacker.</summary>
    public ImageLoader Loader(ImageUnpacker? unpacker = null) =>
        new(Content, Images, Lock, unpacker, Root.TmpDir) { Platform = PlatformSpec.Parse("linux/amd64") };

    public IReadOnlyList<LoadedImage> Load(byte[] archive, string name = "test.tar") =>
        Loader().Load(new MemoryStream(archive, writable: false), name, CancellationToken.None);

    public ImageSaver Saver() => new(Content, Images, Lock);

    public void Dispose() => _dir.Dispose();
}
