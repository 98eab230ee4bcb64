using System.Text.Json;
using Hivelet.Interop;
using Hivelet.IO;

namespace Hivelet.Images.Registry.Credentials;

/// <summary>
/// hivelet's own &lt;root&gt;/auth.json, written by "hivelet login". Same shape as Docker's "auths".
/// The file is created 0600 before any secret is written to it and replaced atomically
/// (temp + fsync + rename + directory fsync), so a crash leaves the old file or the new one.
/// </summary>
public sealed class HiveletCredentialStore : ICredentialStore
{
    public const string FileName = "auth.json";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly Lock _lock = new();

    public HiveletCredentialStore(string root)
    {
        Path = System.IO.Path.Combine(root, FileName);
    }

    public string Path { get; }

    public RegistryCredential? Get(string registry)
    {
        var file = AuthFileIo.Read(Path);
        if (file?.Auths is null)
            return null;
        var entry = CredentialKeys.Find(file.Auths, registry, out var key);
        return entry?.ToCredential(Path, key!);
    }

    public void Store(string registry, RegistryCredential credential)
    {
        lock (_lock)
        {
            var file = AuthFileIo.Read(Path) ?? new AuthFile();
            file.Auths ??= new Dictionary<string, AuthEntry>(StringComparer.Ordinal);
            RemoveMatching(file.Auths, registry);
            file.Auths[CredentialKeys.For(registry)] = AuthEntry.From(credential);
            Write(file);
        }
    }

    public bool Erase(string registry)
    {
        lock (_lock)
        {
            var file = AuthFileIo.Read(Path);
            if (file?.Auths is null || !RemoveMatching(file.Auths, registry))
                return false;
            Write(file);
            return true;
        }
    }

    private static bool RemoveMatching(Dictionary<string, AuthEntry> auths, string registry)
    {
        var keys = auths.Keys.Where(k => CredentialKeys.Matches(k, registry)).ToList();
        foreach (var k in keys)
            auths.Remove(k);
        return keys.Count > 0;
    }

    private void Write(AuthFile file)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(file, CredentialsJsonContext.Default.AuthFile);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(dir);
        var tmp = AtomicFile.TempPathFor(Path);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = OwnerOnly;
            using (var fs = new FileStream(tmp, options))
            {
                // The umask can only remove bits, but set the mode explicitly before writing anyway.
                if (!OperatingSystem.IsWindows())
                    File.SetUnixFileMode(fs.SafeFileHandle, OwnerOnly);
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, Path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
        Sys.FsyncDirectory(dir);
    }
}
