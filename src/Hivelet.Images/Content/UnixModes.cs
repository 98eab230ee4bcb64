namespace Hivelet.Images.Content;

/// <summary>
/// File modes for the store. The platform guard satisfies the platform analyzer without marking
/// the whole assembly Linux-only (which would push CA1416 onto every caller).
/// </summary>
internal static class UnixModes
{
    public const UnixFileMode PrivateDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode ReadOnlyBlob = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private const string LinuxOnly = "hivelet runs on Linux only";

    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException(LinuxOnly);
        Directory.CreateDirectory(path, PrivateDir);
    }

    public static void Set(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException(LinuxOnly);
        File.SetUnixFileMode(path, mode);
    }

    public static void Set(Microsoft.Win32.SafeHandles.SafeFileHandle handle, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException(LinuxOnly);
        File.SetUnixFileMode(handle, mode);
    }
}
