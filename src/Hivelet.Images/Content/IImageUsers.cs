using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>
/// What, outside the image records, still needs an image: containers, which stack their writable
/// layer on the image's layer snapshots and read its config at every start. The images library
/// cannot see containers, so the composition root passes this in: `rmi`, `image prune` and the
/// <see cref="GarbageCollector"/> ask it before removing anything.
/// </summary>
public interface IImageUsers
{
    /// <summary>Every user of every image, read now (not cached: a container may have been created since).</summary>
    IReadOnlyList<ImageUser> List();
}

/// <summary>One container using <paramref name="ImageId"/> (the config digest) on top of the snapshot <paramref name="TopChainId"/>.</summary>
public sealed record ImageUser(string ContainerId, Digest ImageId, Digest? TopChainId, bool Running)
{
    /// <summary>Docker's 12-character container ID, as conflict messages print it.</summary>
    public string ShortId => ContainerId.Length > 12 ? ContainerId[..12] : ContainerId;
}
