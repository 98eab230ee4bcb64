using System.Net;
using System.Text.Json;
using Hivelet.Images.Registry.Auth;

namespace Hivelet.Images.Registry;

public sealed partial class RegistryClient
{
    private const int MaxTagPages = 100;
    private const int MaxTagPageBytes = 4 * 1024 * 1024;

    /// <summary>
    /// All tags of a repository, following RFC 5988 Link rel="next" pages (at most 100). Order is
    /// the registry's: distribution 2.8 neither sorts nor paginates.
    /// </summary>
    public Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken ct = default)
    {
        ValidateRepository(repository);
        var subject = $"list tags {Domain}/{repository}";
        return WithRetriesAsync<IReadOnlyList<string>>(subject, async () =>
        {
            var tags = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            Uri? next = Endpoint($"v2/{repository}/tags/list");
            for (int page = 0; next is not null; page++)
            {
                if (page >= MaxTagPages)
                    throw new RegistryException($"more than {MaxTagPages} pages of tags");
                using var response = await SendFollowingRedirectsAsync(HttpMethod.Get, next,
                    [Scopes.Pull(repository)], null, ct).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                    throw await Error(response, ct).ConfigureAwait(false);
                var body = await RegistryErrors.ReadCappedAsync(response.Content, MaxTagPageBytes, ct).ConfigureAwait(false);
                TagList? list;
                try
                {
                    list = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.TagList);
                }
                catch (JsonException)
                {
                    throw new RegistryException("tag list is not valid JSON");
                }
                foreach (var tag in list?.Tags ?? [])
                {
                    if (seen.Add(tag))
                        tags.Add(tag);
                }
                var link = NextLink(response);
                next = link is null ? null : new Uri(next, link);
            }
            return tags;
        }, ct);
    }

    /// <summary>The target of Link: &lt;url&gt;; rel="next", if any.</summary>
    internal static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.TryGetValues("Link", out var values))
            return null;
        foreach (var value in values)
        {
            foreach (var part in value.Split(','))
            {
                int open = part.IndexOf('<', StringComparison.Ordinal);
                int close = part.IndexOf('>', StringComparison.Ordinal);
                if (open < 0 || close < open)
                    continue;
                var rel = part[(close + 1)..].Replace(" ", "", StringComparison.Ordinal);
                if (rel.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase) ||
                    rel.Contains("rel=next", StringComparison.OrdinalIgnoreCase))
                {
                    return part[(open + 1)..close].Trim();
                }
            }
        }
        return null;
    }
}
