using Hivelet.Images.Registry.Auth;

namespace Hivelet.Images.Tests.Registry;

public sealed class ChallengeParserTests
{
    [Theory]
    [InlineData("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\"",
        "bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:samalba/my-app:pull,push")]
    [InlineData("BEARER Realm=\"http://127.0.0.1:5009/token\", Service=lab", "bearer", "http://127.0.0.1:5009/token", "lab", "")]
    [InlineData("basic realm=\"lab-registry\"", "basic", "lab-registry", null, "")]
    [InlineData("Basic realm=lab", "basic", "lab", null, "")]
    [InlineData("Bearer realm=\"a\\\"b\\\\c\"", "bearer", "a\"b\\c", null, "")]
    [InlineData("Bearer realm=\"r\",scope=\"repository:localhost:5000/a:pull\"", "bearer", "r", null, "repository:localhost:5000/a:pull")]
    [InlineData("Bearer   realm = \"r\" ,  service=\"s\"", "bearer", "r", "s", "")]
    public void ParsesOneChallenge(string header, string scheme, string realm, string? service, string scopes)
    {
        var c = Assert.Single(ChallengeParser.Parse(header));
        Assert.Equal(scheme, c.Scheme);
        Assert.Equal(realm, c.Realm);
        Assert.Equal(service, c.Service);
        Assert.Equal(scopes, string.Join(' ', c.Scopes));
    }

    [Fact]
    public void SplitsSeveralScopesAndReadsTheError()
    {
        var c = Assert.Single(ChallengeParser.Parse(
            "Bearer realm=\"r\",service=\"s\",scope=\"repository:lab/other:pull,push repository:lab/up:pull\",error=\"insufficient_scope\""));
        Assert.Equal(["repository:lab/other:pull,push", "repository:lab/up:pull"], c.Scopes);
        Assert.Equal("insufficient_scope", c.Error);
    }

    [Fact]
    public void ReadsEveryHeaderLine()
    {
        var all = ChallengeParser.Parse(["Basic realm=\"b\"", "Bearer realm=\"t\",service=\"s\""]);
        Assert.Equal(["basic", "bearer"], all.Select(c => c.Scheme));
        Assert.Equal("t", all[1].Realm);
    }

    [Fact]
    public void ReadsSeveralChallengesOnOneLine()
    {
        var all = ChallengeParser.Parse("Bearer realm=\"t\", service=\"s\", Basic realm=\"b\"");
        Assert.Equal(["bearer", "basic"], all.Select(c => c.Scheme));
        Assert.Equal("s", all[0].Service);
        Assert.Equal("b", all[1].Realm);
    }

    [Fact]
    public void KeepsWhatCameBeforeAMalformedParameter()
    {
        var c = Assert.Single(ChallengeParser.Parse("Bearer service=\"s\",realm=\"unterminated"));
        Assert.Equal("s", c.Service);
        Assert.Null(c.Realm);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(",,,")]
    public void EmptyHeaderHasNoChallenges(string header) => Assert.Empty(ChallengeParser.Parse(header));

    [Fact]
    public void SchemeWithoutParameters()
    {
        var c = Assert.Single(ChallengeParser.Parse("Negotiate"));
        Assert.Equal("negotiate", c.Scheme);
        Assert.Empty(c.Parameters);
    }
}
