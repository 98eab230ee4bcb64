using Hivelet.Interop;

namespace Hivelet.IO;

/// <summary>
/// Crash-safe replacement of small state files: write a temp file in the same directory, fsync it,
/// rename it over the target, fsync the directory. A kill -9 at any point leaves either the old or
/// the new content, plus at worst a stray "*.tmp-*" file that <see cref="CleanTemps"/> removes.
/// </summary>
public static class AtomicFile
{
    public const string TempMarker = ".tmp-";

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = TempPathFor(path);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        Sys.FsyncDirectory(dir);
    }

    public static void WriteAllText(string path, string content) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content));

    /// <summary>A unique sibling name that <see cref="CleanTemps"/> recognises.</summary>
    public static string TempPathFor(string path) =>
        $"{path}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>Removes temp files left by a killed writer in <paramref name="directory"/>.</summary>
    public static int CleanTemps(string directory)
    {
        if (!Directory.Exists(directory))
            return 0;
        int removed = 0;
        foreach (var f in Directory.EnumerateFiles(directory, "*" + TempMarker + "*"))
        {
            if (TryDelete(f))
                removed++;
        }
        return removed;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
