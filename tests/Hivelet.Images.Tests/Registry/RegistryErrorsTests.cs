using System.Net;
using System.Text;
using Hivelet.Images.Registry;

namespace Hivelet.Images.Tests.Registry;

public sealed class RegistryErrorsTests
{
    [Theory]
    [InlineData(404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"nope\"}}]}",
        "manifest unknown (MANIFEST_UNKNOWN)")]
    [InlineData(404, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\",\"detail\":\"sha256:ab\"}]}",
        "blob unknown to registry (BLOB_UNKNOWN)")]
    [InlineData(404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"detail\":[1,2]}]}", "name unknown (NAME_UNKNOWN)")]
    [InlineData(403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\",\"detail\":null}]}",
        "denied: requested access to the resource is denied")]
    [InlineData(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\",\"detail\":[{\"Type\":\"repository\"}]}]}",
        "unauthorized: authentication required")]
    [InlineData(400, "{\"errors\":[{\"code\":\"weird_code\",\"message\":\"line1\\nline2\"}]}", "line1 line2 (WEIRD_CODE)")]
    [InlineData(400, "{\"errors\":[{}]}", "unknown (UNKNOWN)")]
    [InlineData(403, "", "denied: requested access to the resource is denied")]
    [InlineData(401, "<html>nope</html>", "unauthorized: authentication required")]
    [InlineData(404, "null", "not found (HTTP 404)")]
    [InlineData(502, "<html>bad gateway</html>", "unexpected HTTP status 502 (BadGateway)")]
    public void MapsBodiesAndStatuses(int status, string body, string expected)
    {
        var e = RegistryErrorsProbe.Map(status, body, null);
        Assert.Equal(expected, e.Message);
        Assert.Equal((HttpStatusCode)status, e.StatusCode);
    }

    [Fact]
    public void TooManyRequestsSaysWhenToRetry()
    {
        var e = RegistryErrorsProbe.Map(429, "", TimeSpan.FromSeconds(30));
        Assert.Equal("toomanyrequests: rate limited, retry after 30s", e.Message);
        Assert.True(e.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(30), e.RetryAfter);
    }

    [Fact]
    public void KeepsTheRegistrysRateLimitText()
    {
        var e = RegistryErrorsProbe.Map(429,
            "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"You have reached your pull rate limit.\"}]}", null);
        Assert.Equal("toomanyrequests: You have reached your pull rate limit.", e.Message);
        Assert.Equal("TOOMANYREQUESTS", e.ErrorCode);
    }

    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(501, false)]
    [InlineData(404, false)]
    [InlineData(401, false)]
    public void ClassifiesTransientStatuses(int status, bool transient) =>
        Assert.Equal(transient, RegistryErrorsProbe.Map(status, "", null).IsTransient);

    [Fact]
    public void BoundsHugeMessages()
    {
        var body = "{\"errors\":[{\"code\":\"X\",\"message\":\"" + new string('a', 10_000) + "\"}]}";
        Assert.True(RegistryErrorsProbe.Map(400, body, null).Message.Length < 400);
    }

    private static class RegistryErrorsProbe
    {
        public static RegistryException Map(int status, string body, TimeSpan? retryAfter) =>
            RegistryErrors.FromStatus((HttpStatusCode)status, Encoding.UTF8.GetBytes(body), retryAfter);
    }
}
