using Hivelet.Errors;

namespace Hivelet.Interop;

/// <summary>A failed system call: names the call, the subject (usually a path) and the errno.</summary>
public sealed class ErrnoException : HiveletException
{
    public ErrnoException(string call, string? subject, int errno)
        : base(Format(call, subject, errno))
    {
        Call = call;
        Subject = subject;
        Errno = errno;
    }

    public string Call { get; }
    public string? Subject { get; }
    public int Errno { get; }

    private static string Format(string call, string? subject, int errno)
    {
        var what = subject is null ? call : $"{call} `{subject}`";
        return $"{what}: {Errnos.Describe(errno)}";
    }
}
