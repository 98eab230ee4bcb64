using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.References;
using Hivelet.Text;

namespace Hivelet.Cli.Commands;

/// <summary>
/// `images`: one row per repository:tag of each image (docker/cli's layout: digests shown per tag
/// with --digests, a digest-only repository as "repo &lt;none&gt;", a dangling image as
/// "&lt;none&gt; &lt;none&gt;"), newest image first, SIZE the unpacked size. Rows are JSON objects
/// with Docker's image context fields run through <see cref="GoTemplate"/>, so the default table and
/// `--format` are one path.
/// </summary>
public static class ImagesCommand
{
    private const string DefaultFormat = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    private const string TypeName = "*formatter.ImageContext";
    private const string DigestsFormat = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

    public static Command Create(GlobalOptions globals, string name = "images")
    {
        var filter = new Argument<string?>("REPOSITORY[:TAG]") { Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "Show all images (hivelet keeps no intermediate images, so the same list)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only show image IDs" };
        var digests = new Option<bool>("--digests") { Description = "Show digests" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Don't truncate output" };
        var filters = new Option<string[]>("--filter", "-f")
        {
            Description = "Filter output: dangling=true|false, reference=PATTERN, label=KEY[=VALUE]",
            AllowMultipleArgumentsPerToken = false,
        };
        var format = new Option<string?>("--format")
        {
            Description = "Format output with a Go template ({{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.CreatedSince}} " +
                          "{{.CreatedAt}} {{.Size}}, 'table ...', {{json .}}), or 'table' / 'json'",
        };
        var cmd = new Command(name, "List images") { filter, all, quiet, digests, noTrunc, filters, format };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var selection = ImageFilter.Parse(parse.GetValue(filters) ?? [], parse.GetValue(filter));
            bool full = parse.GetValue(noTrunc);
            var fmt = parse.GetValue(format);
            bool showDigests = parse.GetValue(digests) || (fmt?.Contains(".Digest", StringComparison.Ordinal) ?? false);
            var rows = Rows(services, selection, full, showDigests);

            bool bareTable = fmt is null || fmt.Trim() == "table";
            if (parse.GetValue(quiet) && bareTable)
            {
                // docker/cli renders "{{.ID}}" over the table's rows: an image with several names (or,
                // with --digests, several digests) prints its ID once per row, and scripts count on it.
                foreach (var row in rows)
                    Console.WriteLine((string)row["ID"]!);
                return Task.FromResult(0);
            }
            var text = bareTable ? (parse.GetValue(digests) ? DigestsFormat : DefaultFormat) : fmt == "json" ? "{{json .}}" : fmt!;
            bool table = GoTemplate.IsTable(text, out var body);
            var template = GoTemplate.Parse(body);
            var lines = new List<string>();
            // The header is the template run over the column titles, as docker/cli does.
            if (table)
                lines.Add(template.Execute(Header, GoTemplate.Missing.Error, TypeName));
            lines.AddRange(rows.Select(r => template.Execute(r, GoTemplate.Missing.Error, TypeName)));
            Console.Out.Write(table ? GoTemplate.AlignTabs(lines) : string.Concat(lines.Select(l => l + "\n")));
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>Column titles, rendered through the same template for `table` formats.</summary>
    private static JsonObject Header => new()
    {
        ["Containers"] = "CONTAINERS",
        ["CreatedAt"] = "CREATED AT",
        ["CreatedSince"] = "CREATED",
        ["Digest"] = "DIGEST",
        ["ID"] = "IMAGE ID",
        ["Repository"] = "REPOSITORY",
        ["SharedSize"] = "SHARED SIZE",
        ["Size"] = "SIZE",
        ["Tag"] = "TAG",
        ["UniqueSize"] = "UNIQUE SIZE",
        ["VirtualSize"] = "VIRTUAL SIZE",
    };

    private static List<JsonObject> Rows(HiveletServices services, ImageFilter selection, bool full, bool showDigests)
    {
        var now = DateTimeOffset.UtcNow;
        var sizes = services.LayerSizes;
        var rows = new List<(DateTimeOffset Created, DateTimeOffset Recorded, List<JsonObject> Rows)>();
        foreach (var group in services.Images.List().GroupBy(r => r.Id))
        {
            var records = group.ToList();
            var image = StoredImage.Load(records[0], services.Content);
            if (!selection.Keep(records, image))
                continue;
            var created = image.Config.Created ?? DateTimeOffset.UnixEpoch;
            var size = Units.HumanSize(image.UnpackedSize(sizes));
            var id = full ? group.Key.ToString() : group.Key.Short;
            var createdAt = image.Config.Created is { } c ? Units.GoTime(c) : "N/A";
            var since = Units.Ago(image.Config.Created, now);
            var imageRows = new List<JsonObject>();
            foreach (var (repo, tag, digest) in Names(records, selection, showDigests))
            {
                imageRows.Add(new JsonObject
                {
                    ["Containers"] = "N/A",
                    ["CreatedAt"] = createdAt,
                    ["CreatedSince"] = since,
                    ["Digest"] = digest,
                    ["ID"] = id,
                    ["Repository"] = repo,
                    ["SharedSize"] = "N/A",
                    ["Size"] = size,
                    ["Tag"] = tag,
                    ["UniqueSize"] = "N/A",
                    ["VirtualSize"] = size,
                });
            }
            rows.Add((created, records.Max(r => r.Created), imageRows));
        }
        return rows.OrderByDescending(r => r.Created).ThenByDescending(r => r.Recorded).SelectMany(r => r.Rows).ToList();
    }

    /// <summary>
    /// (repository, tag, digest) rows of one image, as docker/cli derives them from RepoTags and
    /// RepoDigests: a row per tag (per tag and digest with --digests), then the repositories known
    /// only by digest with tag "&lt;none&gt;"; a dangling image is one "&lt;none&gt;" row.
    /// </summary>
    internal static List<(string Repository, string Tag, string Digest)> Names(IReadOnlyList<ImageRecord> records,
        ImageFilter selection, bool showDigests)
    {
        var tags = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var digests = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var record in records.Where(r => !r.IsDangling))
        {
            var reference = ImageReference.Parse(record.Name);
            if (!selection.MatchesReference(reference))
                continue;
            if (reference.Tag is { } tag)
                Add(tags, reference.FamiliarName, tag);
            else if (reference.Digest is { } digest)
                Add(digests, reference.FamiliarName, digest.ToString());
            foreach (var repoDigest in record.RepoDigests)
            {
                if (ImageReference.TryParse(repoDigest, out var r) && r.Digest is { } d && selection.MatchesReference(r))
                    Add(digests, r.FamiliarName, d.ToString());
            }
        }
        var rows = new List<(string, string, string)>();
        if (tags.Count == 0 && digests.Count == 0)
        {
            if (records.All(r => r.IsDangling))
                rows.Add(("<none>", "<none>", "<none>"));
            return rows;
        }
        foreach (var (repo, repoTags) in tags)
        {
            digests.TryGetValue(repo, out var repoDigests);
            digests.Remove(repo);
            foreach (var tag in repoTags)
            {
                if (!showDigests || repoDigests is null)
                    rows.Add((repo, tag, "<none>"));
                else
                    rows.AddRange(repoDigests.Select(d => (repo, tag, d)));
            }
        }
        foreach (var (repo, repoDigests) in digests)
        {
            if (showDigests)
                rows.AddRange(repoDigests.Select(d => (repo, "<none>", d)));
            else
                rows.Add((repo, "<none>", "<none>"));
        }
        return rows;
    }

    private static void Add(SortedDictionary<string, SortedSet<string>> map, string key, string value)
    {
        if (!map.TryGetValue(key, out var set))
            map[key] = set = new SortedSet<string>(StringComparer.Ordinal);
        set.Add(value);
    }
}

/// <summary>`images -f`: dangling=, reference= (Go path.Match globs, as docker's FamiliarMatch), label=.</summary>
public sealed class ImageFilter
{
    private readonly List<Regex> _references = [];
    private readonly List<(string Key, string? Value)> _labels = [];
    private bool? _dangling;

    public static ImageFilter Parse(IEnumerable<string> filters, string? positional)
    {
        var result = new ImageFilter();
        foreach (var f in filters)
        {
            int eq = f.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new InvalidInputException($"images: bad format of filter \"{f}\" (expected name=value)");
            var key = f[..eq].ToLowerInvariant();
            var value = f[(eq + 1)..];
            switch (key)
            {
                case "dangling":
                    result._dangling = value.ToLowerInvariant() switch
                    {
                        "true" or "1" => true,
                        "false" or "0" => false,
                        _ => throw new InvalidInputException($"images: invalid filter 'dangling={value}' (true or false)"),
                    };
                    break;
                case "reference":
                    result._references.Add(Glob(value));
                    break;
                case "label":
                    int keq = value.IndexOf('=', StringComparison.Ordinal);
                    result._labels.Add(keq < 0 ? (value, null) : (value[..keq], value[(keq + 1)..]));
                    break;
                default:
                    throw new InvalidInputException($"images: invalid filter '{key}' (dangling, reference or label)");
            }
        }
        if (!string.IsNullOrEmpty(positional))
        {
            // "busybox", "docker.io/library/busybox:1.36": normalised to the familiar form a glob sees.
            var pattern = positional.IndexOfAny(['*', '?', '[']) < 0 && ImageReference.TryParse(positional, addDefaultTag: false, out var r, out _)
                ? r.FamiliarString()
                : positional;
            result._references.Add(Glob(pattern));
        }
        return result;
    }

    internal bool Keep(IReadOnlyList<ImageRecord> records, StoredImage image)
    {
        bool dangling = records.All(r => r.IsDangling || ImageReference.Parse(r.Name).Tag is null);
        if (_dangling is { } wanted && wanted != dangling)
            return false;
        foreach (var (key, value) in _labels)
        {
            var labels = image.Config.Config?.Labels;
            if (labels is null || !labels.TryGetValue(key, out var have) || (value is not null && have != value))
                return false;
        }
        if (_references.Count == 0)
            return true;
        return records.Any(r => !r.IsDangling && (MatchesReference(ImageReference.Parse(r.Name)) ||
                                                  r.RepoDigests.Any(d => ImageReference.TryParse(d, out var x) && MatchesReference(x))));
    }

    internal bool MatchesReference(ImageReference reference)
    {
        if (_references.Count == 0)
            return true;
        var whole = reference.FamiliarString();
        return _references.Any(p => p.IsMatch(whole) || p.IsMatch(reference.FamiliarName));
    }

    /// <summary>Go's path.Match: '*' and '?' never cross '/', [classes] as written.</summary>
    internal static Regex Glob(string pattern)
    {
        var regex = new System.Text.StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*':
                    regex.Append("[^/]*");
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '[':
                    int end = pattern.IndexOf(']', i + 1);
                    if (end < 0)
                        throw new InvalidInputException($"images: invalid reference filter \"{pattern}\": syntax error in pattern");
                    var set = pattern[(i + 1)..end];
                    regex.Append('[').Append(set.StartsWith('^') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                    i = end;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    regex.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
