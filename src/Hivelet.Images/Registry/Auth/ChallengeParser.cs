using System.Text;

namespace Hivelet.Images.Registry.Auth;

/// <summary>
/// Parses WWW-Authenticate values (RFC 7235 §4.1, RFC 6750 §3). Each header line may hold several
/// challenges ("Bearer realm=x, Basic realm=y"): a token not followed by '=' starts a new challenge.
/// Parsing is forgiving: a malformed parameter ends its challenge, what came before is kept.
/// </summary>
public static class ChallengeParser
{
    public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        var result = new List<AuthChallenge>();
        foreach (var value in headerValues)
            ParseLine(value, result);
        return result;
    }

    public static IReadOnlyList<AuthChallenge> Parse(string headerValue) => Parse([headerValue]);

    private static void ParseLine(string s, List<AuthChallenge> into)
    {
        int i = 0;
        while (true)
        {
            SkipSeparators(s, ref i);
            var scheme = ReadToken(s, ref i);
            if (scheme.Length == 0)
                return;
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            bool malformed = false;
            while (true)
            {
                SkipSeparators(s, ref i);
                int start = i;
                var name = ReadToken(s, ref i);
                if (name.Length == 0)
                {
                    malformed = i < s.Length;
                    break;
                }
                SkipSpaces(s, ref i);
                if (i >= s.Length || s[i] != '=')
                {
                    // A bare token: the next challenge's scheme.
                    i = start;
                    break;
                }
                i++;
                SkipSpaces(s, ref i);
                string? value = i < s.Length && s[i] == '"' ? ReadQuoted(s, ref i) : ReadToken(s, ref i);
                if (value is null)
                {
                    malformed = true;
                    break;
                }
                parameters.TryAdd(name.ToLowerInvariant(), value);
            }
            into.Add(new AuthChallenge(scheme.ToLowerInvariant(), parameters));
            if (malformed)
                return;
        }
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t')
            i++;
    }

    private static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',')
            i++;
    }

    private static string ReadToken(string s, ref int i)
    {
        int start = i;
        while (i < s.Length && IsTokenChar(s[i]))
            i++;
        return s[start..i];
    }

    /// <summary>A quoted-string with backslash escapes; null when the closing quote is missing.</summary>
    private static string? ReadQuoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++;
        while (i < s.Length)
        {
            char c = s[i++];
            if (c == '"')
                return sb.ToString();
            if (c == '\\' && i < s.Length)
                c = s[i++];
            sb.Append(c);
        }
        return null;
    }

    // RFC 7230 tchar, plus '/' so unquoted token68-ish values such as URLs survive.
    private static bool IsTokenChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or
            '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or
            '/' or ':';
}
