using Hivelet.Errors;
using Hivelet.Runtime.Tests.Spec;
using Hivelet.Runtime.Volumes;

namespace Hivelet.Runtime.Tests.Volumes;

public sealed class VolumeStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly VolumeStore _store;

    public VolumeStoreTests()
    {
        _store = new VolumeStore(_dir.Path);
    }

    public void Dispose() => _dir.Dispose();

    private static IReadOnlyList<string> Unused(string name) => [];

    [Fact]
    public void Create_get_list_remove()
    {
        var v = _store.Create("data", new Dictionary<string, string> { ["app"] = "web" });
        Assert.Equal(("data", "local", "local", _store.DataPath("data")), (v.Name, v.Driver, v.Scope, v.Mountpoint));
        Assert.True(Directory.Exists(v.Mountpoint));
        Assert.Equal(0x1edu, Hivelet.Interop.Sys.LStat(v.Mountpoint).Permissions); // 0755
        var got = _store.Get("data")!;
        Assert.Equal("web", got.Labels["app"]);
        Assert.False(got.IsAnonymous);
        _store.Create("cache");
        Assert.Equal(["cache", "data"], _store.List().Select(x => x.Name));
        File.WriteAllText(Path.Combine(v.Mountpoint, "file"), "x");
        _store.Remove("data", false, Unused);
        Assert.Null(_store.Get("data"));
        Assert.Equal(["cache"], _store.List().Select(x => x.Name));
    }

    [Fact]
    public void Create_is_idempotent_and_keeps_the_data()
    {
        var v = _store.Create("data");
        File.WriteAllText(Path.Combine(v.Mountpoint, "keep"), "x");
        var again = _store.Create("data", new Dictionary<string, string> { ["ignored"] = "1" });
        Assert.Equal(v.CreatedAt, again.CreatedAt);
        Assert.True(File.Exists(Path.Combine(again.Mountpoint, "keep")));
    }

    [Fact]
    public void Anonymous_volumes_have_hex_names_and_dockers_label()
    {
        var v = _store.CreateAnonymous();
        Assert.Equal(64, v.Name.Length);
        Assert.True(v.IsAnonymous);
        Assert.True(_store.Get(v.Name)!.IsAnonymous);
    }

    [Fact]
    public void A_volume_in_use_is_not_removed_even_with_force()
    {
        _store.Create("data");
        var e = Assert.Throws<InvalidInputException>(() => _store.Remove("data", true, _ => ["abc123"]));
        Assert.Equal("remove volume data: volume is in use - [abc123]", e.Message);
        Assert.NotNull(_store.Get("data"));
    }

    [Fact]
    public void Missing_volume_is_an_error_unless_forced()
    {
        Assert.Throws<NotFoundException>(() => _store.Remove("nope", false, Unused));
        _store.Remove("nope", true, Unused);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-x")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Bad_names_are_refused(string name)
    {
        var e = Assert.Throws<InvalidInputException>(() => _store.Create(name));
        Assert.Contains("includes invalid characters for a local volume name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Leftovers_of_interrupted_creates_and_removes_are_cleaned_by_list()
    {
        _store.Create("data");
        Directory.CreateDirectory(Path.Combine(_store.Directory, ".tmp-half-made/_data"));
        Directory.CreateDirectory(Path.Combine(_store.Directory, ".trash-old-1234/_data"));
        Assert.Equal(["data"], _store.List().Select(v => v.Name));
        Assert.Equal([Path.Combine(_store.Directory, "data")], Directory.EnumerateDirectories(_store.Directory));
    }

    [Fact]
    public void A_corrupt_record_is_reported()
    {
        _store.Create("data");
        File.WriteAllText(Path.Combine(_store.Directory, "data", "volume.json"), "{not json");
        var e = Assert.Throws<HiveletException>(() => _store.Get("data"));
        Assert.StartsWith("read volume data: ", e.Message, StringComparison.Ordinal);
    }
}
