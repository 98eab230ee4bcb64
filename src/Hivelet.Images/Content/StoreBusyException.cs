using Hivelet.Errors;

namespace Hivelet.Images.Content;

/// <summary>A lock another writer holds: the same blob is being ingested, or a GC or pull is running.</summary>
public sealed class StoreBusyException(string message) : HiveletException(message);
