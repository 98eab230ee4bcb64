namespace Hivelet.Images.Snapshots;

/// <summary>
/// The steps that made one container's snapshot, for native/fastrun.c to make the same for another
/// container (CONTRACT.md "Run templates"): directories in order with their modes, the metadata file,
/// then the overlay mount, whose options name the lower layers relative to
/// <see cref="MountWorkingDirectory"/>. <see cref="Needs"/> must still exist for the steps to be right.
/// </summary>
public sealed record ContainerSnapshotReplay(
    string Directory,
    IReadOnlyList<(string Path, uint Mode)> Directories,
    string MetaPath,
    byte[] Meta,
    uint MetaMode,
    string MountWorkingDirectory,
    string MountTarget,
    string MountOptions,
    IReadOnlyList<string> Needs);
