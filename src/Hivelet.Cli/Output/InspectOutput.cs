using System.Text.Json;
using System.Text.Json.Nodes;
using Hivelet.Text;

namespace Hivelet.Cli.Output;

/// <summary>
/// What every inspect verb prints: one JSON array, indented by four spaces as Docker, or with
/// `-f/--format` one line per object from a Go template walked over the same JSON.
/// </summary>
public static class InspectOutput
{
    public static void Write(TextWriter output, JsonArray items, string? format)
    {
        if (string.IsNullOrEmpty(format))
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 4 }))
                items.WriteTo(writer);
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return;
        }
        var template = GoTemplate.Parse(format);
        foreach (var item in items)
            output.WriteLine(template.Execute(item, GoTemplate.Missing.NoValue));
    }

    /// <summary>Appends the elements of <paramref name="from"/> (a serialised list) to <paramref name="into"/>.</summary>
    public static void Append(JsonArray into, JsonNode? from)
    {
        if (from is not JsonArray list)
            return;
        var nodes = list.ToList();
        list.Clear();
        foreach (var node in nodes)
            into.Add(node);
    }

    /// <summary>Docker's check of `inspect --type`.</summary>
    public static string? CheckType(string? type) => type switch
    {
        null or "" => null,
        "container" or "image" => type,
        _ => throw new Errors.InvalidInputException($"\"{type}\" is not a valid value for --type"),
    };
}
