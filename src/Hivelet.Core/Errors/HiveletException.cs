namespace Hivelet.Errors;

/// <summary>
/// An error meant for the user: its message names what failed and why, one line, no stack trace.
/// Each layer that catches and rethrows adds its own context in front ("pull busybox: ...").
/// </summary>
public class HiveletException : Exception
{
    public HiveletException(string message) : base(message) { }

    public HiveletException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Exit code the CLI uses. 125 is Docker's code for "the tool itself failed".</summary>
    public virtual int ExitCode => ExitCodes.HiveletError;

    /// <summary>The message chain on one line: "outer: inner: innermost".</summary>
    public static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            if (x is AggregateException { InnerExceptions.Count: 1 } agg)
            {
                x = agg;
                continue;
            }
            var msg = x.Message.Trim();
            // Inner causes that the outer message already quotes ("... refused" then "refused (host:port)") add nothing.
            int paren = msg.IndexOf(" (", StringComparison.Ordinal);
            var core = paren > 0 ? msg[..paren] : msg;
            if (msg.Length > 0 && (parts.Count == 0 || !parts[^1].Contains(core, StringComparison.Ordinal)))
                parts.Add(msg);
        }
        return string.Join(": ", parts);
    }
}

/// <summary>Input that is wrong: a malformed reference, an unknown flag value, a bad archive.</summary>
public sealed class InvalidInputException(string message) : HiveletException(message);

/// <summary>Something asked for does not exist (image, container, blob).</summary>
public sealed class NotFoundException(string message) : HiveletException(message);

/// <summary>Content whose digest or size does not match what was promised.</summary>
public sealed class DigestMismatchException(string message) : HiveletException(message);

public static class ExitCodes
{
    public const int Success = 0;
    public const int HiveletError = 125;
    public const int CannotExecute = 126;
    public const int CommandNotFound = 127;
}
