namespace Hivelet.Images.Registry.Auth;

/// <summary>Token scopes (distribution auth/scope.md): "repository:NAME:ACTION[,ACTION]".</summary>
public static class Scopes
{
    public static string Pull(string repository) => $"repository:{repository}:pull";

    public static string PullPush(string repository) => $"repository:{repository}:pull,push";

    /// <summary>Sorted, de-duplicated set: the token cache key and the order sent to the realm.</summary>
    public static IReadOnlyList<string> Normalize(IEnumerable<string> scopes) =>
        scopes.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
}
