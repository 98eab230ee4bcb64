namespace Hivelet.Images.Registry.Auth;

/// <summary>A bearer token and the moment we stop using it.</summary>
internal sealed record CachedToken(string Key, string Value, DateTimeOffset ExpiresAt);

/// <summary>
/// Bearer tokens per registry host and sorted scope set. Concurrent callers for the same key share
/// one in-flight fetch; a failed or expired entry is replaced by the next caller.
/// </summary>
internal sealed class TokenCache
{
    private readonly Dictionary<string, Task<CachedToken>> _entries = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public TokenCache(TimeProvider time)
    {
        _time = time;
    }

    public static string KeyFor(string host, IReadOnlyList<string> normalizedScopes) =>
        host + "|" + string.Join(' ', normalizedScopes);

    public Task<CachedToken> GetOrFetch(string key, Func<Task<CachedToken>> fetch, CancellationToken ct)
    {
        Task<CachedToken> task;
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out task!) || !IsUsable(task))
            {
                // The shared fetch must not die with the first caller's token; callers wait with their own.
                task = Task.Run(fetch, CancellationToken.None);
                _entries[key] = task;
            }
        }
        return task.WaitAsync(ct);
    }

    /// <summary>Drops a token the registry rejected, unless someone already replaced it.</summary>
    public void Invalidate(CachedToken token)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(token.Key, out var task) && task.IsCompletedSuccessfully &&
                ReferenceEquals(task.Result, token))
            {
                _entries.Remove(token.Key);
            }
        }
    }

    private bool IsUsable(Task<CachedToken> task) =>
        !task.IsCompleted || (task.IsCompletedSuccessfully && task.Result.ExpiresAt > _time.GetUtcNow());
}
