namespace Hivelet.Images.Registry.Auth;

/// <summary>One challenge from a WWW-Authenticate header: a scheme and its parameters.</summary>
public sealed class AuthChallenge
{
    public AuthChallenge(string scheme, IReadOnlyDictionary<string, string> parameters)
    {
        Scheme = scheme;
        Parameters = parameters;
    }

    /// <summary>Lower-cased: "bearer", "basic", ...</summary>
    public string Scheme { get; }

    /// <summary>Parameter names are lower-cased; values are unquoted and unescaped.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    public bool IsBearer => Scheme == "bearer";

    public bool IsBasic => Scheme == "basic";

    public string? Realm => Get("realm");

    public string? Service => Get("service");

    public string? Error => Get("error");

    /// <summary>The space-separated entries of the "scope" parameter.</summary>
    public IReadOnlyList<string> Scopes =>
        Get("scope") is { } s ? s.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];

    private string? Get(string name) => Parameters.TryGetValue(name, out var v) ? v : null;
}
