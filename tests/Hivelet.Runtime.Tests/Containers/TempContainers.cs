using Hivelet.Images.Content;
using Hivelet.Runtime.Containers;

namespace Hivelet.Runtime.Tests.Containers;

/// <summary>A container store in a fresh temp directory (run dirs inside it too), deleted on dispose.</summary>
public sealed class TempContainers : IDisposable
{
    public TempContainers()
    {
        Dir = Directory.CreateTempSubdirectory("hivelet-containers-").FullName;
        Root = new StoreRoot(Path.Combine(Dir, "root"));
        Root.EnsureCreated();
        Store = new ContainerStore(Root, runBase: Path.Combine(Dir, "run"));
    }

    public string Dir { get; }
    public StoreRoot Root { get; }
    public ContainerStore Store { get; }

    public ContainerRecord Add(string? name = null, DateTimeOffset? created = null) =>
        Store.Create(name, (id, n, bundle) => new ContainerRecord { Created = created ?? DateTimeOffset.UtcNow, ImageRef = "fixture" });

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
