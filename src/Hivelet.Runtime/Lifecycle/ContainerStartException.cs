using Hivelet.Errors;

namespace Hivelet.Runtime.Lifecycle;

/// <summary>A start the monitor reported as failed: 125 (hivelet), 126 (cannot execute) or 127 (not found).</summary>
public sealed class ContainerStartException(int code, string message) : HiveletException(message)
{
    public override int ExitCode { get; } = code is 126 or 127 ? code : ExitCodes.HiveletError;
}

/// <summary>A request that conflicts with the container's state ("is not running", "cannot remove a running container").</summary>
public sealed class ContainerStateException(string message) : HiveletException(message);
