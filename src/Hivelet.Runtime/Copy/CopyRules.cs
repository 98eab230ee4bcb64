using Hivelet.Errors;

namespace Hivelet.Runtime.Copy;

/// <summary>One side of `cp`: CONTAINER:PATH or a local path ("-" = a tar stream on stdin/stdout).</summary>
public readonly record struct CopyEndpoint(string? Container, string Path)
{
    public bool IsStream => Container is null && Path == "-";

    /// <summary>
    /// Docker's rule: a colon before any slash makes CONTAINER:PATH; a local path with a colon must
    /// start with "/" or "./" to be read as local.
    /// </summary>
    public static CopyEndpoint Parse(string arg)
    {
        ArgumentNullException.ThrowIfNull(arg);
        if (arg.StartsWith('/') || arg.StartsWith("./", StringComparison.Ordinal) || arg == "-")
            return new CopyEndpoint(null, arg);
        int colon = arg.IndexOf(':', StringComparison.Ordinal);
        int slash = arg.IndexOf('/', StringComparison.Ordinal);
        if (colon > 0 && (slash < 0 || colon < slash))
            return new CopyEndpoint(arg[..colon], arg[(colon + 1)..]);
        return new CopyEndpoint(null, arg);
    }
}

/// <summary>What the destination is before the copy.</summary>
public enum DestinationKind
{
    Missing,
    File,
    Directory,
}

/// <summary>
/// Where the copied tree lands: extract into <see cref="Directory"/> (a path on the destination side)
/// with the source's root entry named <see cref="RootName"/>; "" = the source directory's contents go
/// straight into it (SRC ends with "/.").
/// </summary>
public sealed record CopyPlan(string Directory, string RootName);

/// <summary>`docker cp`'s path rules (docs: docker container cp), independent of where the files are.</summary>
public static class CopyRules
{
    /// <summary>True when SRC asks for the contents of a directory ("dir/.").</summary>
    public static bool IsContentsOnly(string source) =>
        source == "." || source.EndsWith("/.", StringComparison.Ordinal);

    /// <summary>The name of the source's last component ("/a/b/" -> "b", "/" -> "/").</summary>
    public static string BaseName(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
            return "/";
        int slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    public static string Parent(string path)
    {
        var trimmed = path.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        return slash < 0 ? "." : slash == 0 ? "/" : trimmed[..slash];
    }

    public static CopyPlan Decide(string source, bool sourceIsDirectory, string destination, DestinationKind dest)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        bool contents = IsContentsOnly(source);
        if (!sourceIsDirectory && (source.EndsWith('/') || contents))
            throw new InvalidInputException($"copy {source}: not a directory");
        string rootName = contents ? "" : BaseName(source);
        if (rootName == "/")
            rootName = "";
        switch (dest)
        {
            case DestinationKind.Directory:
                return new CopyPlan(destination, sourceIsDirectory ? rootName : BaseName(source));
            case DestinationKind.File:
                if (sourceIsDirectory)
                    throw new InvalidInputException($"copy {source} to {destination}: cannot copy a directory to a file");
                if (destination.EndsWith('/'))
                    throw new InvalidInputException($"copy {source} to {destination}: not a directory");
                return new CopyPlan(Parent(destination), BaseName(destination));
            default:
                if (!sourceIsDirectory && destination.EndsWith('/'))
                    throw new InvalidInputException($"copy {source} to {destination}: the destination directory must exist");
                // A new name: the file, or the directory whose contents are copied, takes it.
                return new CopyPlan(Parent(destination), BaseName(destination));
        }
    }
}
