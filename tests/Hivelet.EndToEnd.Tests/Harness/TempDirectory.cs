namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>A fresh directory under /tmp that is deleted with everything in it on Dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "hivelet-e2e") =>
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
