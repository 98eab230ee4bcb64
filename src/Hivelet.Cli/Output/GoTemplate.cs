using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hivelet.Errors;

namespace Hivelet.Cli.Output;

/// <summary>
/// The part of Go's text/template that Docker's `--format` users type: text with `{{.Field}}`,
/// `{{.A.B}}`, `{{.}}`, `{{json .X}}`, functions Docker adds (json, upper, lower, title, join, split,
/// truncate, pad, println), pipes (`{{.X | json}}`), methods with string arguments
/// (`{{.Label "k"}}`, supplied by the caller), `{{- -}}` trimming and a leading `table ` that asks
/// for aligned columns with a header. Data is a JSON tree, so any verb can describe its rows without
/// reflection; the header is the same template rendered over a row of column titles, as Docker does.
/// `\t` and `\n` typed on the command line become tab and newline. range/if/with are not supported
/// and say so.
/// </summary>
public sealed class GoTemplate
{
    private readonly List<Node> _nodes;
    private readonly string _source;

    private GoTemplate(string source, List<Node> nodes, bool table)
    {
        _source = source;
        _nodes = nodes;
        IsTable = table;
    }

    /// <summary>`table ...` was asked for: render the header, then align the columns.</summary>
    public bool IsTable { get; }

    /// <summary>
    /// Methods callable as `{{.Name "arg"}}`: given the object the path led to and the string
    /// arguments, they return a value.
    /// </summary>
    public Dictionary<string, Func<JsonNode?, IReadOnlyList<string>, JsonNode?>> Methods { get; } = new(StringComparer.Ordinal);

    /// <summary>Parses a `--format` value; "table" alone means the verb's default columns (see <see cref="IsBareTable"/>).</summary>
    public static GoTemplate Parse(string format)
    {
        ArgumentNullException.ThrowIfNull(format);
        var text = format.Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal);
        bool table = false;
        if (text == "table" || text.StartsWith("table ", StringComparison.Ordinal))
        {
            table = true;
            text = text.Length > 5 ? text[6..] : "";
        }
        return new GoTemplate(format, Parser.Parse(text), table);
    }

    /// <summary>"table" with nothing after it: the verb prints its usual table.</summary>
    public static bool IsBareTable(string format) => format.Trim() == "table";

    /// <summary>Renders one row (no newline added).</summary>
    public string Render(JsonNode? data)
    {
        var output = new StringBuilder();
        foreach (var node in _nodes)
        {
            if (node.Text is { } text)
                output.Append(text);
            else
                output.Append(Print(Evaluate(node.Action!, data)));
        }
        return output.ToString();
    }

    /// <summary>
    /// Writes rows the way Docker does: for a table, the header rendered from <paramref name="header"/>
    /// and cells aligned on the tabs (3 spaces between columns); otherwise one rendered line per row.
    /// </summary>
    public void Write(TextWriter output, JsonNode header, IEnumerable<JsonNode> rows)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!IsTable)
        {
            foreach (var row in rows)
                output.WriteLine(Render(row));
            return;
        }
        var lines = new List<string> { Render(header) };
        lines.AddRange(rows.Select(Render));
        WriteAligned(output, lines);
    }

    /// <summary>Go's tabwriter as docker/cli configures it: cells padded to the widest in their column plus 3.</summary>
    internal static void WriteAligned(TextWriter output, IReadOnlyList<string> lines)
    {
        var cells = lines.Select(l => l.Split('\t')).ToList();
        int columns = cells.Max(c => c.Length);
        var widths = new int[columns];
        foreach (var row in cells)
        {
            for (int i = 0; i < row.Length - 1; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        foreach (var row in cells)
        {
            var line = new StringBuilder();
            for (int i = 0; i < row.Length; i++)
                line.Append(i < row.Length - 1 ? row[i].PadRight(widths[i] + 3) : row[i]);
            output.WriteLine(line.ToString().TrimEnd());
        }
    }

    private JsonNode? Evaluate(Pipeline pipeline, JsonNode? dot)
    {
        JsonNode? value = null;
        for (int i = 0; i < pipeline.Commands.Count; i++)
        {
            var command = pipeline.Commands[i];
            var args = command.Args.Select(a => Argument(a, dot)).ToList();
            if (i > 0)
                args.Add(value);
            value = command.Head.Kind switch
            {
                TokenKind.Field => Field(command.Head, dot, command.Args, args, i > 0),
                TokenKind.Identifier => Call(command.Head, args),
                _ => args.Count == 0 ? Argument(command.Head, dot) : throw Error(command.Head, "can't give argument to non-function"),
            };
        }
        return value;
    }

    private JsonNode? Field(Token head, JsonNode? dot, IReadOnlyList<Token> rawArgs, List<JsonNode?> args, bool piped)
    {
        var path = head.Text == "." ? [] : head.Text[1..].Split('.');
        if (rawArgs.Count == 0 && !piped)
            return Walk(head, dot, path);
        // `.A.Method "x"`: the last step is a method on what the path before it reaches.
        var owner = Walk(head, dot, path[..^1]);
        var name = path[^1];
        if (!Methods.TryGetValue(name, out var method))
            throw Error(head, $"can't call method/function \"{name}\" with {args.Count} args");
        var strings = args.Select(Print).ToList();
        return method(owner, strings);
    }

    private JsonNode? Walk(Token head, JsonNode? node, IEnumerable<string> path)
    {
        foreach (var step in path)
        {
            if (node is JsonObject obj && obj.TryGetPropertyValue(step, out var child))
            {
                node = child;
                continue;
            }
            if (node is JsonObject && Methods.TryGetValue(step, out var method))
            {
                node = method(node, []);
                continue;
            }
            throw Error(head, $"can't evaluate field {step}");
        }
        return node;
    }

    private JsonNode? Argument(Token token, JsonNode? dot) => token.Kind switch
    {
        TokenKind.String => JsonValue.Create(token.Text),
        TokenKind.Number => JsonValue.Create(long.Parse(token.Text, CultureInfo.InvariantCulture)),
        TokenKind.Field => Walk(token, dot, token.Text == "." ? [] : token.Text[1..].Split('.')),
        _ => throw Error(token, $"function \"{token.Text}\" needs to be called, not passed"),
    };

    private JsonNode? Call(Token head, List<JsonNode?> args)
    {
        string Arg(int i) => Print(args[i]);
        void Need(int n)
        {
            if (args.Count != n)
                throw Error(head, $"wrong number of args for {head.Text}: want {n} got {args.Count}");
        }
        switch (head.Text)
        {
            case "json":
                Need(1);
                return JsonValue.Create(GoJson(args[0]));
            case "upper":
                Need(1);
                return JsonValue.Create(Arg(0).ToUpperInvariant());
            case "lower":
                Need(1);
                return JsonValue.Create(Arg(0).ToLowerInvariant());
            case "title":
                Need(1);
                return JsonValue.Create(Title(Arg(0)));
            case "println":
                return JsonValue.Create(string.Join(' ', args.Select(Print)) + "\n");
            case "join":
                Need(2);
                var items = args[0] is JsonArray array ? array.Select(Print) : [Print(args[0])];
                return JsonValue.Create(string.Join(Arg(1), items));
            case "split":
                Need(2);
                return new JsonArray([.. Arg(0).Split(Arg(1)).Select(s => (JsonNode?)JsonValue.Create(s))]);
            case "truncate":
                Need(2);
                var text = Arg(0);
                int length = ToInt(head, args[1]);
                return JsonValue.Create(text.Length > length ? text[..length] : text);
            case "pad":
                Need(3);
                return JsonValue.Create(new string(' ', ToInt(head, args[1])) + Arg(0) + new string(' ', ToInt(head, args[2])));
            case "range" or "if" or "with" or "else" or "end" or "define" or "template" or "block":
                throw Error(head, $"\"{head.Text}\" is not supported by hivelet's templates");
            default:
                throw Error(head, $"function \"{head.Text}\" not defined");
        }
    }

    private static int ToInt(Token at, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<long>(out var n) && n is >= 0 and <= 1 << 20
            ? (int)n
            : throw Error(at, $"expected a number, got {Print(node)}");

    private static string Title(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (i == 0 || !char.IsLetter(chars[i - 1]))
                chars[i] = char.ToUpperInvariant(chars[i]);
        }
        return new string(chars);
    }

    /// <summary>JSON as Go's encoding/json writes it: compact, with &lt; &gt; &amp; as \u003c \u003e \u0026.</summary>
    internal static string GoJson(JsonNode? node)
    {
        if (node is null)
            return "null";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            node.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.ToArray())
            .Replace("<", "\\u003c", StringComparison.Ordinal)
            .Replace(">", "\\u003e", StringComparison.Ordinal)
            .Replace("&", "\\u0026", StringComparison.Ordinal);
    }

    /// <summary>How Go prints a value: strings bare, numbers and booleans as text, maps and slices Go-style.</summary>
    internal static string Print(JsonNode? node) => node switch
    {
        null => "<no value>",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v => v.ToJsonString(),
        JsonArray a => "[" + string.Join(' ', a.Select(Print)) + "]",
        JsonObject o => "map[" + string.Join(' ', o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + Print(p.Value))) + "]",
        _ => node.ToJsonString(),
    };

    private static InvalidInputException Error(Token at, string message) =>
        new($"template: :1:{at.Column}: executing \"\" at <{at.Text}>: {message}");

    private enum TokenKind
    {
        Field,
        Identifier,
        String,
        Number,
        Pipe,
    }

    private sealed record Token(TokenKind Kind, string Text, int Column);

    private sealed record Command(Token Head, List<Token> Args);

    private sealed record Pipeline(List<Command> Commands);

    private sealed record Node(string? Text, Pipeline? Action);

    private static class Parser
    {
        public static List<Node> Parse(string text)
        {
            var nodes = new List<Node>();
            int pos = 0;
            while (pos < text.Length)
            {
                int open = text.IndexOf("{{", pos, StringComparison.Ordinal);
                if (open < 0)
                {
                    nodes.Add(new Node(text[pos..], null));
                    break;
                }
                int close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
                if (close < 0)
                    throw new InvalidInputException($"template: :1: unclosed action (column {open + 1})");
                var inner = text[(open + 2)..close];
                var literal = text[pos..open];
                if (inner.StartsWith("- ", StringComparison.Ordinal) || inner == "-")
                {
                    literal = literal.TrimEnd();
                    inner = inner[1..];
                }
                if (literal.Length > 0)
                    nodes.Add(new Node(literal, null));
                pos = close + 2;
                if (inner.EndsWith(" -", StringComparison.Ordinal))
                {
                    inner = inner[..^1];
                    while (pos < text.Length && char.IsWhiteSpace(text[pos]))
                        pos++;
                }
                if (inner.TrimStart().StartsWith("/*", StringComparison.Ordinal))
                    continue;
                nodes.Add(new Node(null, ParsePipeline(inner, open + 3)));
            }
            return nodes;
        }

        private static Pipeline ParsePipeline(string action, int column)
        {
            var tokens = Tokenize(action, column);
            if (tokens.Count == 0)
                throw new InvalidInputException($"template: :1:{column}: missing value for command");
            var commands = new List<Command>();
            var current = new List<Token>();
            foreach (var token in tokens.Append(new Token(TokenKind.Pipe, "|", column + action.Length)))
            {
                if (token.Kind != TokenKind.Pipe)
                {
                    current.Add(token);
                    continue;
                }
                if (current.Count == 0)
                    throw new InvalidInputException($"template: :1:{token.Column}: missing command before \"|\"");
                commands.Add(new Command(current[0], current.Skip(1).ToList()));
                current = [];
            }
            return new Pipeline(commands);
        }

        private static List<Token> Tokenize(string s, int column)
        {
            var tokens = new List<Token>();
            int i = 0;
            while (i < s.Length)
            {
                char c = s[i];
                int start = i;
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c == '|')
                {
                    tokens.Add(new Token(TokenKind.Pipe, "|", column + i));
                    i++;
                }
                else if (c is '"' or '`')
                {
                    var value = new StringBuilder();
                    i++;
                    while (i < s.Length && s[i] != c)
                    {
                        if (c == '"' && s[i] == '\\' && i + 1 < s.Length)
                        {
                            i++;
                            value.Append(s[i] switch { 'n' => '\n', 't' => '\t', _ => s[i] });
                        }
                        else
                        {
                            value.Append(s[i]);
                        }
                        i++;
                    }
                    if (i >= s.Length)
                        throw new InvalidInputException($"template: :1:{column + start}: unterminated quoted string");
                    i++;
                    tokens.Add(new Token(TokenKind.String, value.ToString(), column + start));
                }
                else if (c == '.' || char.IsLetter(c) || c == '_')
                {
                    while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] is '_' or '.'))
                        i++;
                    var word = s[start..i];
                    if (word.StartsWith('.') && word != "." && (word.EndsWith('.') || word.Contains("..", StringComparison.Ordinal)))
                        throw new InvalidInputException($"template: :1:{column + start}: bad field \"{word}\"");
                    tokens.Add(new Token(word.StartsWith('.') ? TokenKind.Field : TokenKind.Identifier, word, column + start));
                }
                else if (char.IsAsciiDigit(c) || (c == '-' && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1])))
                {
                    i++;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                        i++;
                    tokens.Add(new Token(TokenKind.Number, s[start..i], column + start));
                }
                else
                {
                    throw new InvalidInputException($"template: :1:{column + start}: unexpected \"{c}\" in command");
                }
            }
            return tokens;
        }
    }
}
