using Hivelet.Errors;

namespace Hivelet.Images.Archives;

/// <summary>
/// Paths inside an image archive, kept relative to the archive's root: "./a//b/" is "a/b", and a
/// name that is absolute or climbs out with ".." is refused rather than clamped, because no tool
/// writes such names into an image archive; only an attack does.
/// </summary>
internal static class ArchivePath
{
    /// <summary>The canonical form of <paramref name="path"/>; throws when it escapes the archive.</summary>
    public static string Normalize(string path)
    {
        if (string.IsNullOrEmpty(path))
            throw new InvalidInputException("empty path");
        if (path[0] == '/')
            throw new InvalidInputException($"\"{path}\": absolute path escapes the archive");
        return Join([], path, path);
    }

    /// <summary>Where a symlink at <paramref name="linkPath"/> with <paramref name="target"/> points, inside the archive.</summary>
    public static string ResolveSymlink(string linkPath, string target)
    {
        if (string.IsNullOrEmpty(target))
            throw new InvalidInputException($"\"{linkPath}\": symlink with an empty target");
        if (target[0] == '/')
            throw new InvalidInputException($"\"{linkPath}\" -> \"{target}\": absolute link target points outside the archive");
        int slash = linkPath.LastIndexOf('/');
        var parent = slash < 0 ? [] : linkPath[..slash].Split('/');
        return Join(parent, target, $"{linkPath}\" -> \"{target}");
    }

    /// <summary>Splits a normalised path into its components.</summary>
    public static string[] Split(string path) => path.Split('/');

    private static string Join(string[] start, string relative, string shown)
    {
        var parts = new List<string>(start);
        foreach (var part in relative.Split('/'))
        {
            if (part is "" or ".")
                continue;
            if (part == "..")
            {
                if (parts.Count == 0)
                    throw new InvalidInputException($"\"{shown}\": path escapes the archive");
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        if (parts.Count == 0)
            throw new InvalidInputException($"\"{shown}\": names the archive root, not a file");
        return string.Join('/', parts);
    }
}
