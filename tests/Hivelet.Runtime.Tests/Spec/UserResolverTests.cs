using Hivelet.Errors;
using Hivelet.Interop;
using Hivelet.Runtime.Spec;

namespace Hivelet.Runtime.Tests.Spec;

public sealed class UserResolverTests : IDisposable
{
    private const string Passwd =
        "root:x:0:0:root:/root:/bin/sh\n# a comment\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";
    private const string Group = "root:x:0:\nalice:x:1000:\ngpio:x:997:alice,bob\nvideo:x:44:\ni2c:x:998:alice\n";

    private readonly TempDir _dir = new();
    private readonly string _root;

    public UserResolverTests()
    {
        _root = _dir.Sub("rootfs");
        _dir.WriteFile("rootfs/etc/passwd", Passwd);
        _dir.WriteFile("rootfs/etc/group", Group);
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(null, 0u, 0u, new uint[0], "/root")]
    [InlineData("", 0u, 0u, new uint[0], "/root")]
    [InlineData("root", 0u, 0u, new uint[0], "/root")]
    [InlineData("alice", 1000u, 1000u, new uint[] { 997, 998 }, "/home/alice")]
    [InlineData("1000", 1000u, 1000u, new uint[] { 997, 998 }, "/home/alice")]
    [InlineData("alice:video", 1000u, 44u, new uint[0], "/home/alice")]
    [InlineData("alice:45", 1000u, 45u, new uint[0], "/home/alice")]
    [InlineData("4242", 4242u, 0u, new uint[0], "/")]
    [InlineData("4242:4343", 4242u, 4343u, new uint[0], "/")]
    [InlineData("bob:gpio", 1001u, 997u, new uint[0], "/home/bob")]
    public void Users_and_groups(string? spec, uint uid, uint gid, uint[] groups, string home)
    {
        var u = UserResolver.Resolve(_root, spec, null);
        Assert.Equal((uid, gid, home), (u.Uid, u.Gid, u.Home));
        Assert.Equal(groups, u.Groups);
    }

    [Fact]
    public void Group_add_takes_names_from_the_containers_group_file_and_numbers_as_is()
    {
        var u = UserResolver.Resolve(_root, "bob", ["video", "1234", "gpio"]);
        Assert.Equal([997u, 44u, 1234u], u.Groups);
        var e = Assert.Throws<HiveletException>(() => UserResolver.Resolve(_root, "bob", ["gpiomem"]));
        Assert.Equal("unable to find group gpiomem: no matching entries in group file", e.Message);
    }

    [Fact]
    public void Unknown_names_are_dockers_errors()
    {
        Assert.Equal("unable to find user carol: no matching entries in passwd file",
            Assert.Throws<HiveletException>(() => UserResolver.Resolve(_root, "carol", null)).Message);
        Assert.Equal("unable to find group staff: no matching entries in group file",
            Assert.Throws<HiveletException>(() => UserResolver.Resolve(_root, "alice:staff", null)).Message);
    }

    [Fact]
    public void Missing_files_leave_numeric_ids_working()
    {
        File.Delete(Path.Combine(_root, "etc/passwd"));
        File.Delete(Path.Combine(_root, "etc/group"));
        var u = UserResolver.Resolve(_root, "1:2", ["3"]);
        Assert.Equal((1u, 2u), (u.Uid, u.Gid));
        Assert.Equal([3u], u.Groups);
        Assert.Throws<HiveletException>(() => UserResolver.Resolve(_root, "alice", null));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_symlinked_passwd_pointing_outside_the_root_is_not_followed(bool absolute)
    {
        var outside = _dir.WriteFile("outside/passwd", "eve:x:666:666::/:/bin/sh\n");
        var link = Path.Combine(_root, "etc/passwd");
        File.Delete(link);
        var target = absolute ? outside : "../../../../../../../../../../" + outside.TrimStart('/');
        File.CreateSymbolicLink(link, target);
        Assert.Equal("unable to find user eve: no matching entries in passwd file",
            Assert.Throws<HiveletException>(() => UserResolver.Resolve(_root, "eve", null)).Message);
    }

    [Fact]
    public void A_symlink_inside_the_root_is_followed_inside_it()
    {
        var link = Path.Combine(_root, "etc/passwd");
        File.Delete(link);
        _dir.WriteFile("rootfs/usr/share/passwd", "dave:x:77:78::/d:/bin/sh\n");
        File.CreateSymbolicLink(link, "/usr/share/passwd");
        var u = UserResolver.Resolve(_root, "dave", null);
        Assert.Equal((77u, 78u), (u.Uid, u.Gid));
    }

    [Fact]
    public void A_fifo_as_passwd_does_not_hang_and_counts_as_absent()
    {
        var path = Path.Combine(_root, "etc/passwd");
        File.Delete(path);
        Sys.MakeNode(path, Sys.S_IFIFO | 0x1a4, 0, 0);
        Assert.Equal(5u, UserResolver.Resolve(_root, "5", null).Uid);
        Assert.Throws<HiveletException>(() => UserResolver.Resolve(_root, "alice", null));
    }
}
