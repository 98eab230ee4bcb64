using Hivelet.Images.Content;
using Hivelet.Images.Oci;

namespace Hivelet.Runtime.Containers;

/// <summary>
/// The containers of a store as users of their images (<see cref="IImageUsers"/>): what keeps `rmi`,
/// `image prune` and the garbage collector from pulling an image's config or layers out from under a
/// container, running or not. Running means the monitor says so (a dead monitor is reconciled first).
/// </summary>
public sealed class ContainerImageUsers(ContainerStore store, LiveState live) : IImageUsers
{
    public IReadOnlyList<ImageUser> List()
    {
        var users = new List<ImageUser>();
        foreach (var record in store.List())
        {
            if (!Digest.TryParse(record.Image, out var image, out _))
                continue;
            Digest? top = Digest.TryParse(record.TopChainId, out var t, out _) ? t : null;
            users.Add(new ImageUser(record.Id, image, top, live.Read(record).Running));
        }
        return users;
    }
}
