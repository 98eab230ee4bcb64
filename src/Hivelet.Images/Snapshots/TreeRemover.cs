using Hivelet.Interop;

namespace Hivelet.Images.Snapshots;

/// <summary>Deletes snapshot trees, which may hold read-only directories, devices and fifos.</summary>
internal static class TreeRemover
{
    public static void Delete(string path)
    {
        int errno = Sys.TryLStat(path, out var status);
        if (errno == Errnos.ENOENT)
            return;
        if (errno != 0)
            throw new ErrnoException("statx", path, errno);
        if (!status.IsDirectory)
        {
            File.Delete(path);
            return;
        }
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Without CAP_DAC_OVERRIDE a 0555 directory inside a layer blocks removal of its children.
            MakeDirectoriesWritable(path);
            Directory.Delete(path, recursive: true);
        }
    }

    private static void MakeDirectoriesWritable(string directory)
    {
        Sys.Chmod(directory, 0700);
        foreach (var child in Directory.EnumerateDirectories(directory))
        {
            if (Sys.TryLStat(child, out var st) == 0 && st.IsDirectory)
                MakeDirectoriesWritable(child);
        }
    }
}
