using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>
/// JSON contexts that write "+json" media types unescaped, as registries and Docker do (the
/// default encoder writes "\u002B"; still valid, but unlike any real manifest).
/// </summary>
internal static class FixtureJson
{
    private static JsonSerializerOptions Options() => new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static OciJsonContext Oci { get; } = new(Options());

    public static FixtureJsonContext Archive { get; } = new(Options());
}
