using Hivelet.Errors;

namespace Hivelet.Images.Snapshots;

/// <summary>A snapshot cannot be removed because a layer, a container or an active unpack builds on it.</summary>
public sealed class SnapshotInUseException(string message) : HiveletException(message);
