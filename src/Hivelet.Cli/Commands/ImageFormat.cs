using System.Globalization;
using System.Text.Json.Nodes;
using Hivelet.Cli.Output;
using Hivelet.Text;

namespace Hivelet.Cli.Commands;

/// <summary>`images --format`: json or a Go template over Docker's image context fields, `table` aligned.</summary>
internal sealed class ImageFormat
{
    private static readonly (string Field, string Header)[] Fields =
    [
        ("Containers", "CONTAINERS"), ("CreatedAt", "CREATED AT"), ("CreatedSince", "CREATED"), ("Digest", "DIGEST"),
        ("ID", "IMAGE ID"), ("Repository", "REPOSITORY"), ("SharedSize", "SHARED SIZE"), ("Size", "SIZE"), ("Tag", "TAG"),
        ("UniqueSize", "UNIQUE SIZE"), ("VirtualSize", "VIRTUAL SIZE"),
    ];

    private const string TypeName = "*formatter.ImageContext";

    private readonly GoTemplate _template;
    private readonly bool _table;
    private readonly List<string> _lines = [];

    private ImageFormat(GoTemplate template, bool table)
    {
        _template = template;
        _table = table;
        if (table)
        {
            var header = new JsonObject();
            foreach (var (field, text) in Fields)
                header[field] = text;
            _lines.Add(template.Execute(header, GoTemplate.Missing.Error, TypeName));
        }
    }

    public sealed record Entry(string Id, string Repository, string Tag, string Digest, string CreatedSince, DateTimeOffset? CreatedAt, string Size);

    /// <summary>Null for Docker's default table, which the caller prints itself.</summary>
    public static ImageFormat? Create(string? format)
    {
        if (string.IsNullOrEmpty(format) || format == "table")
            return null;
        if (format == "json")
            return new ImageFormat(GoTemplate.Parse("{{json .}}"), table: false);
        bool table = GoTemplate.IsTable(format, out var body);
        return new ImageFormat(GoTemplate.Parse(body), table);
    }

    public void Add(Entry e)
    {
        // Docker's field order (alphabetical), so {{json .}} reads as Docker's.
        var data = new JsonObject
        {
            ["Containers"] = "N/A",
            ["CreatedAt"] = e.CreatedAt is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " +0000 UTC" : "",
            ["CreatedSince"] = e.CreatedSince,
            ["Digest"] = e.Digest,
            ["ID"] = e.Id,
            ["Repository"] = e.Repository,
            ["SharedSize"] = "N/A",
            ["Size"] = e.Size,
            ["Tag"] = e.Tag,
            ["UniqueSize"] = "N/A",
            ["VirtualSize"] = e.Size,
        };
        _lines.Add(_template.Execute(data, GoTemplate.Missing.Error, TypeName));
    }

    public void WriteTo(TextWriter output) =>
        output.Write(_table ? GoTemplate.AlignTabs(_lines) : string.Concat(_lines.Select(l => l + "\n")));
}
