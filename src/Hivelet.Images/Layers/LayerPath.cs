using Hivelet.Errors;

namespace Hivelet.Images.Layers;

/// <summary>
/// Cleaning of entry names and hard-link targets. Policy (like moby's go-archive): a leading "/" is
/// stripped, "." and empty components dropped, ".." folded lexically; a name whose ".." would climb
/// above the root is refused with an error rather than silently clamped, because no honest layer
/// builder produces one.
/// </summary>
internal static class LayerPath
{
    /// <summary>The clean relative path ("" for the root itself), or null when it escapes the root.</summary>
    public static string? Clean(string name)
    {
        if (IsAlreadyClean(name))
            return name;
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".")
                continue;
            if (part == "..")
            {
                if (parts.Count == 0)
                    return null;
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    public static string CleanOrThrow(string name, string layer, string entryName) =>
        Clean(name) ?? throw new InvalidInputException($"apply layer {layer}: entry \"{entryName}\": path escapes the root");

    public static (string Parent, string Base) Split(string clean)
    {
        int slash = clean.LastIndexOf('/');
        return slash < 0 ? ("", clean) : (clean[..slash], clean[(slash + 1)..]);
    }

    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    /// <summary>Fast path for the common case: no leading or trailing '/', no "//", no "." or ".." component.</summary>
    private static bool IsAlreadyClean(string name)
    {
        if (name.Length == 0 || name[0] == '/' || name[^1] == '/')
            return false;
        int start = 0;
        for (int i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] == '/')
            {
                int len = i - start;
                if (len == 0 || (len == 1 && name[start] == '.') || (len == 2 && name[start] == '.' && name[start + 1] == '.'))
                    return false;
                start = i + 1;
            }
        }
        return true;
    }
}
