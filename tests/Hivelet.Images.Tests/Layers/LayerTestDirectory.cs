namespace Hivelet.Images.Tests.Layers;

/// <summary>
/// A temp directory holding "root" (what layers are applied to) and a sibling "outside" that hostile
/// archives try to reach; removed with everything in it on dispose.
/// </summary>
public sealed class LayerTestDirectory : IDisposable
{
    public LayerTestDirectory()
    {
        Base = Path.Combine(Path.GetTempPath(), "hivelet-layers-" + Guid.NewGuid().ToString("N"));
        Root = Path.Combine(Base, "root");
        Outside = Path.Combine(Base, "outside");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "keep"), "outside");
    }

    public string Base { get; }
    public string Root { get; }
    public string Outside { get; }

    public string InRoot(string relative) => Path.Combine(Root, relative);

    /// <summary>Asserts that nothing besides the "keep" file exists outside the root.</summary>
    public void AssertOutsideUntouched()
    {
        Assert.Equal<string>(["keep"], Directory.EnumerateFileSystemEntries(Outside).Select(p => Path.GetFileName(p)!).ToArray());
        Assert.Equal("outside", File.ReadAllText(Path.Combine(Outside, "keep")));
        var siblings = Directory.EnumerateFileSystemEntries(Base).Select(p => Path.GetFileName(p)!).Order().ToArray();
        Assert.Equal<string>(["outside", "root"], siblings);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Base, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
