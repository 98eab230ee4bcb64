using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hivelet.Errors;

namespace Hivelet.Text;

/// <summary>
/// The part of Go's text/template that people type into Docker's --format: text with actions holding
/// field paths (<c>{{.State.Status}}</c>), Docker's functions (json, join, lower, upper, title, split,
/// index, len, truncate, pad), pipes, methods the caller provides (ps' <c>{{.Label "k"}}</c>) and
/// <c>{{-</c>/<c>-}}</c> trimming; no if/range. Data is a JSON tree, so every verb formats the JSON it
/// would print, with no reflection. Error texts follow Go's ("template: :1:2: executing ...").
/// </summary>
public sealed class GoTemplate
{
    private readonly List<Node> _nodes;
    private readonly string _source;

    private GoTemplate(string source, List<Node> nodes)
    {
        _source = source;
        _nodes = nodes;
    }

    /// <summary>How a field the data does not have prints: an error (typed contexts) or Go's "&lt;no value&gt;" (maps).</summary>
    public enum Missing
    {
        Error,
        NoValue,
    }

    /// <summary>Methods the data offers besides its fields, e.g. ps' Label(name); null result = not a method.</summary>
    public delegate JsonNode? MethodCall(string name, IReadOnlyList<JsonNode?> args);

    /// <summary>Parses <paramref name="text"/>; `\t` and `\n` written as two characters become tab and newline (Docker does this).</summary>
    public static GoTemplate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var source = text.Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal);
        return new GoTemplate(source, new Parser(source).ParseAll());
    }

    /// <summary>Docker's `table` prefix: a header line, then tab-separated cells aligned in columns.</summary>
    public static bool IsTable(string format, out string rest)
    {
        if (format.StartsWith("table", StringComparison.Ordinal))
        {
            rest = format[5..].Trim(' ');
            return true;
        }
        rest = format;
        return false;
    }

    /// <summary>
    /// Runs the template over <paramref name="data"/>. <paramref name="typeName"/> names the data in errors
    /// about unknown fields as Docker's CLI does ("*formatter.ContainerContext").
    /// </summary>
    public string Execute(JsonNode? data, Missing missing = Missing.NoValue, string typeName = "map[string]interface {}", MethodCall? methods = null)
    {
        var run = new Run(data, missing, typeName, methods);
        var output = new StringBuilder();
        foreach (var node in _nodes)
        {
            if (node is TextNode t)
                output.Append(t.Text);
            else
                output.Append(Print(run.Pipeline(((ActionNode)node).Pipeline)));
        }
        return output.ToString();
    }

    /// <summary>Go's fmt.Print of a decoded JSON value: strings bare, maps as map[k:v] with sorted keys, arrays as [a b].</summary>
    public static string Print(JsonNode? value)
    {
        switch (value)
        {
            case null:
                return "<nil>";
            case JsonObject o:
                return "map[" + string.Join(' ', o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + Print(p.Value))) + "]";
            case JsonArray a:
                return "[" + string.Join(' ', a.Select(Print)) + "]";
            default:
                var v = value.AsValue();
                return v.GetValueKind() switch
                {
                    JsonValueKind.String => v.GetValue<string>(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Null => "<nil>",
                    _ => value.ToJsonString(),
                };
        }
    }

    /// <summary>Docker's `json` function: Go's json.Encoder with SetEscapeHTML(false), compact, no trailing newline.</summary>
    public static string Json(JsonNode? value)
    {
        if (value is null)
            return "null";
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = GoJsonEncoder.Instance }))
            value.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private abstract record Node;

    private sealed record TextNode(string Text) : Node;

    private sealed record ActionNode(List<Command> Pipeline) : Node;

    /// <summary>One command of a pipeline: operands, the first of which may be a function name or a method path.</summary>
    private sealed record Command(List<Operand> Operands);

    private abstract record Operand(int Line, int Column, string Text);

    private sealed record FieldOperand(int Line, int Column, string Text, string[] Path) : Operand(Line, Column, Text);

    private sealed record LiteralOperand(int Line, int Column, string Text, JsonNode? Value) : Operand(Line, Column, Text);

    private sealed record FunctionOperand(int Line, int Column, string Text) : Operand(Line, Column, Text);

    private sealed record PipelineOperand(int Line, int Column, string Text, List<Command> Pipeline) : Operand(Line, Column, Text);

    private static readonly HashSet<string> Functions = ["json", "join", "lower", "upper", "title", "split", "index", "len", "truncate", "pad", "print", "println"];

    private sealed class Parser(string source)
    {
        private int _pos;

        public List<Node> ParseAll()
        {
            var nodes = new List<Node>();
            var text = new StringBuilder();
            while (_pos < source.Length)
            {
                int open = source.IndexOf("{{", _pos, StringComparison.Ordinal);
                if (open < 0)
                {
                    text.Append(source, _pos, source.Length - _pos);
                    break;
                }
                text.Append(source, _pos, open - _pos);
                _pos = open + 2;
                bool trimLeft = Peek("- ");
                if (trimLeft)
                {
                    _pos++;
                    while (text.Length > 0 && char.IsWhiteSpace(text[^1]))
                        text.Length--;
                }
                if (text.Length > 0)
                    nodes.Add(new TextNode(text.ToString()));
                text.Clear();
                var pipeline = ParsePipeline(inParens: false);
                SkipSpaces();
                bool trimRight = Peek(" -}}") || Peek("-}}");
                if (trimRight)
                {
                    SkipSpaces();
                    _pos++;
                }
                if (!Peek("}}"))
                    throw Error(_pos >= source.Length ? "unclosed action" : $"unexpected \"{source[_pos]}\" in command");
                _pos += 2;
                if (pipeline.Count == 0)
                    throw Error("missing value for command");
                nodes.Add(new ActionNode(pipeline));
                if (trimRight)
                {
                    while (_pos < source.Length && char.IsWhiteSpace(source[_pos]))
                        _pos++;
                }
            }
            if (text.Length > 0)
                nodes.Add(new TextNode(text.ToString()));
            return nodes;
        }

        private List<Command> ParsePipeline(bool inParens)
        {
            var commands = new List<Command>();
            var operands = new List<Operand>();
            while (true)
            {
                SkipSpaces();
                if (_pos >= source.Length)
                    throw Error("unclosed action");
                char c = source[_pos];
                if (Peek("}}") || Peek("-}}") || (c == ')' && inParens))
                    break;
                if (c == '|')
                {
                    if (operands.Count == 0)
                        throw Error("missing command");
                    commands.Add(new Command(operands));
                    operands = [];
                    _pos++;
                    continue;
                }
                operands.Add(ParseOperand());
            }
            if (operands.Count > 0)
                commands.Add(new Command(operands));
            return commands;
        }

        private Operand ParseOperand()
        {
            int start = _pos;
            var (line, column) = Position(start);
            char c = source[_pos];
            if (c == '.')
            {
                _pos++;
                while (_pos < source.Length && (char.IsLetterOrDigit(source[_pos]) || source[_pos] is '_' or '.'))
                    _pos++;
                var text = source[start.._pos];
                var path = text == "." ? [] : text[1..].Split('.');
                if (path.Any(p => p.Length == 0))
                    throw Error($"unexpected \"{text}\" in operand");
                return new FieldOperand(line, column, text, path);
            }
            if (c is '"' or '`')
                return new LiteralOperand(line, column, source[start..SkipString(c)], JsonValue.Create(ReadString(start)));
            if (c == '(')
            {
                _pos++;
                var inner = ParsePipeline(inParens: true);
                if (_pos >= source.Length || source[_pos] != ')')
                    throw Error("unclosed left paren");
                _pos++;
                return new PipelineOperand(line, column, source[start.._pos], inner);
            }
            if (char.IsDigit(c) || c == '-')
            {
                _pos++;
                while (_pos < source.Length && char.IsDigit(source[_pos]))
                    _pos++;
                var text = source[start.._pos];
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                    throw Error($"bad number syntax: \"{text}\"");
                return new LiteralOperand(line, column, text, JsonValue.Create(n));
            }
            if (char.IsLetter(c))
            {
                while (_pos < source.Length && (char.IsLetterOrDigit(source[_pos]) || source[_pos] == '_'))
                    _pos++;
                var name = source[start.._pos];
                if (name is "true" or "false")
                    return new LiteralOperand(line, column, name, JsonValue.Create(name == "true"));
                if (name == "nil")
                    return new LiteralOperand(line, column, name, null);
                if (!Functions.Contains(name))
                    throw Error($"function \"{name}\" not defined");
                return new FunctionOperand(line, column, name);
            }
            throw Error($"unexpected \"{c}\" in command");
        }

        private int SkipString(char quote)
        {
            int end = _pos + 1;
            while (end < source.Length && source[end] != quote)
                end += quote == '"' && source[end] == '\\' ? 2 : 1;
            if (end >= source.Length)
                throw Error("unterminated quoted string");
            return end + 1;
        }

        private string ReadString(int start)
        {
            char quote = source[start];
            int end = SkipString(quote);
            _pos = end;
            var body = source[(start + 1)..(end - 1)];
            if (quote == '`')
                return body;
            var sb = new StringBuilder();
            for (int i = 0; i < body.Length; i++)
            {
                if (body[i] != '\\' || i + 1 >= body.Length)
                {
                    sb.Append(body[i]);
                    continue;
                }
                char e = body[++i];
                sb.Append(e switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    _ => e,
                });
            }
            return sb.ToString();
        }

        private bool Peek(string s) => string.CompareOrdinal(source, _pos, s, 0, s.Length) == 0;

        private void SkipSpaces()
        {
            while (_pos < source.Length && source[_pos] is ' ' or '\t' or '\n' or '\r')
                _pos++;
        }

        private (int Line, int Column) Position(int offset)
        {
            int line = 1 + source.AsSpan(0, offset).Count('\n');
            int lineStart = offset == 0 ? 0 : source.LastIndexOf('\n', offset - 1) + 1;
            return (line, offset - lineStart);
        }

        private InvalidInputException Error(string what) =>
            new($"template parsing error: template: :{Position(Math.Min(_pos, source.Length)).Line}: {what}");
    }

    /// <summary>One execution: the data and how to treat what it lacks.</summary>
    private sealed class Run(JsonNode? data, Missing missing, string typeName, MethodCall? methods)
    {
        public JsonNode? Pipeline(List<Command> pipeline)
        {
            JsonNode? result = null;
            bool first = true;
            foreach (var command in pipeline)
            {
                result = Command(command, first ? null : result, piped: !first);
                first = false;
            }
            return result;
        }

        private JsonNode? Command(Command command, JsonNode? pipedValue, bool piped)
        {
            var head = command.Operands[0];
            var args = command.Operands.Skip(1).Select(Operand).ToList();
            if (piped)
                args.Add(pipedValue);
            switch (head)
            {
                case FunctionOperand f:
                    return Call(f, args);
                case FieldOperand field when args.Count > 0:
                    // A method: `.Label "com.example.k"` (Go calls the last element of the path with the args).
                    if (field.Path.Length == 1 && methods?.Invoke(field.Path[0], args) is { } called)
                        return called;
                    throw Fail(field, $"can't give argument to non-function {field.Text}");
                default:
                    if (args.Count > 0)
                        throw Fail(head, $"can't give argument to non-function {head.Text}");
                    return Operand(head);
            }
        }

        private JsonNode? Operand(Operand operand) => operand switch
        {
            LiteralOperand l => l.Value?.DeepClone(),
            PipelineOperand p => Pipeline(p.Pipeline),
            FieldOperand f => Field(f),
            _ => throw Fail(operand, $"can't use {operand.Text} as a value"),
        };

        private JsonNode? Field(FieldOperand field)
        {
            JsonNode? node = data;
            bool top = true;
            foreach (var name in field.Path)
            {
                if (node is JsonObject o)
                {
                    if (o.TryGetPropertyValue(name, out var child))
                        node = child;
                    else if (top && methods?.Invoke(name, []) is { } value)
                        node = value;
                    else if (top && missing == Missing.Error)
                        throw Fail(field, $"can't evaluate field {name} in type {typeName}");
                    else
                        return NoValue; // Go's map lookup of a missing key
                    top = false;
                    continue;
                }
                if (node is null)
                    throw Fail(field, $"nil pointer evaluating interface {{}}.{name}");
                throw Fail(field, $"can't evaluate field {name} in type {KindName(node)}");
            }
            return node?.DeepClone();
        }

        private JsonNode? Call(FunctionOperand f, List<JsonNode?> args)
        {
            void Want(int n)
            {
                if (args.Count != n)
                    throw Fail(f, $"wrong number of args for {f.Text}: want {n} got {args.Count}");
            }
            switch (f.Text)
            {
                case "json":
                    Want(1);
                    return JsonValue.Create(Json(args[0]));
                case "join":
                    Want(2);
                    return JsonValue.Create(string.Join(Str(args[1]), (args[0] as JsonArray ?? []).Select(Print)));
                case "lower":
                    Want(1);
                    return JsonValue.Create(Str(args[0]).ToLowerInvariant());
                case "upper":
                    Want(1);
                    return JsonValue.Create(Str(args[0]).ToUpperInvariant());
                case "title":
                    Want(1);
                    return JsonValue.Create(string.Join(' ', Str(args[0]).Split(' ').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..])));
                case "split":
                    Want(2);
                    return new JsonArray([.. Str(args[0]).Split(Str(args[1])).Select(s => (JsonNode?)JsonValue.Create(s))]);
                case "len":
                    Want(1);
                    return JsonValue.Create(args[0] switch
                    {
                        JsonArray a => a.Count,
                        JsonObject o => o.Count,
                        _ => Str(args[0]).Length,
                    });
                case "truncate":
                    Want(2);
                    var s = Str(args[0]);
                    int n = (int)Math.Max(0, Num(args[1]));
                    return JsonValue.Create(s.Length > n ? s[..n] : s);
                case "pad":
                    Want(3);
                    return JsonValue.Create(new string(' ', (int)Math.Max(0, Num(args[1]))) + Str(args[0]) + new string(' ', (int)Math.Max(0, Num(args[2]))));
                case "print":
                    return JsonValue.Create(string.Concat(args.Select(Print)));
                case "println":
                    return JsonValue.Create(string.Join(' ', args.Select(Print)) + "\n");
                default: // index
                    if (args.Count < 1)
                        throw Fail(f, "wrong number of args for index: want at least 1 got 0");
                    var node = args[0];
                    foreach (var key in args.Skip(1))
                    {
                        node = node switch
                        {
                            JsonObject o => o.TryGetPropertyValue(Str(key), out var v) ? v : null,
                            JsonArray a => Num(key) is var i && i >= 0 && i < a.Count ? a[(int)i] : throw Fail(f, $"error calling index: index out of range: {Num(key)}"),
                            _ => throw Fail(f, $"error calling index: can't index item of type {KindName(node)}"),
                        };
                    }
                    return node?.DeepClone();
            }
        }

        private static JsonNode NoValue => JsonValue.Create("<no value>")!;

        private static string Str(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : Print(node);

        private static long Num(JsonNode? node) =>
            node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) ? n
            : long.TryParse(Str(node), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : 0;

        private static string KindName(JsonNode? node) => node switch
        {
            JsonArray => "[]interface {}",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => "float64",
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
            _ => "interface {}",
        };

        private InvalidInputException Fail(Operand at, string what) =>
            new($"template: :{at.Line}:{at.Column}: executing \"\" at <{at.Text}>: {what}");
    }

    /// <summary>Go's tabwriter as Docker sets it up (min width 10, padding 3): cells ended by a tab line up in columns.</summary>
    public static string AlignTabs(IReadOnlyList<string> lines)
    {
        const int MinWidth = 10;
        const int Padding = 3;
        var cells = lines.Select(l => l.Split('\t')).ToList();
        var widths = new List<int>();
        foreach (var row in cells)
        {
            // The last piece is not tab-terminated and takes no column.
            for (int i = 0; i < row.Length - 1; i++)
            {
                int w = Math.Max(row[i].Length + Padding, MinWidth);
                if (i == widths.Count)
                    widths.Add(w);
                else
                    widths[i] = Math.Max(widths[i], w);
            }
        }
        var sb = new StringBuilder();
        foreach (var row in cells)
        {
            for (int i = 0; i < row.Length; i++)
                sb.Append(i < row.Length - 1 ? row[i].PadRight(widths[i]) : row[i]);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    public override string ToString() => _source;
}
