using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Hivelet.Cli.Commands.ContainerTools;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Runtime.Containers;
using Hivelet.Text;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>One `ps --format json` line, Docker's field names.</summary>
public sealed class PsEntry
{
    public string ID { get; set; } = "";
    public string Image { get; set; } = "";
    public string Command { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string RunningFor { get; set; } = "";
    public string Ports { get; set; } = "";
    public string State { get; set; } = "";
    public string Status { get; set; } = "";
    public string Names { get; set; } = "";
    public string Labels { get; set; } = "";
    public string Mounts { get; set; } = "";
    public string Networks { get; set; } = "";
    public string Size { get; set; } = "";
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PsEntry))]
internal sealed partial class PsJsonContext : JsonSerializerContext;

// inspect output is indented as Docker's.
[JsonSourceGenerationOptions(WriteIndented = true, IndentSize = 4, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(List<ContainerInspect>))]
[JsonSerializable(typeof(List<Runtime.Volumes.Volume>))]
internal sealed partial class ContainerCliJsonContext : JsonSerializerContext;

public static partial class PsCommand
{
    /// <summary>The table headers of Docker's container context, per field.</summary>
    private static readonly Dictionary<string, string> Headers = new(StringComparer.Ordinal)
    {
        ["ID"] = "CONTAINER ID",
        ["Image"] = "IMAGE",
        ["Command"] = "COMMAND",
        ["CreatedAt"] = "CREATED AT",
        ["RunningFor"] = "CREATED",
        ["Ports"] = "PORTS",
        ["State"] = "STATE",
        ["Status"] = "STATUS",
        ["Names"] = "NAMES",
        ["Labels"] = "LABELS",
        ["Mounts"] = "MOUNTS",
        ["Networks"] = "NETWORKS",
        ["Size"] = "SIZE",
    };

    public static Command Create(GlobalOptions globals, string name = "ps")
    {
        var all = new Option<bool>("--all", "-a") { Description = "Show all containers (default shows just running)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only display container IDs" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Don't truncate output" };
        var last = new Option<int>("--last", "-n") { Description = "Show n last created containers (includes all states)", DefaultValueFactory = _ => -1 };
        var latest = new Option<bool>("--latest", "-l") { Description = "Show the latest created container (includes all states)" };
        var format = new Option<string?>("--format")
        {
            Description = "Format output: table, json, or a Go template ('table {{.ID}}\\t{{.Names}}', '{{json .}}')",
        };
        var filters = new Option<string[]>("--filter", "-f")
        {
            Description = "Filter output (status=, name=, id=, label=, ancestor=, exited=)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var size = new Option<bool>("--size", "-s") { Description = "Display total file sizes" };
        var cmd = new Command(name, "List containers") { all, quiet, noTrunc, last, latest, format, filters, size };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var now = DateTimeOffset.UtcNow;
            var live = services.Live;
            var filter = PsFilter.Parse(parse.GetValue(filters) ?? []);
            int n = parse.GetValue(latest) ? 1 : parse.GetValue(last);
            bool showAll = parse.GetValue(all) || n > 0 || filter.ShowsStopped;
            bool full = parse.GetValue(noTrunc);
            var fmt = parse.GetValue(format) ?? "";
            GoTemplate? template = null;
            bool table = true;
            if (fmt is not ("" or "table" or "json"))
            {
                table = GoTemplate.IsTable(fmt, out var body);
                template = GoTemplate.Parse(body);
            }
            // As docker/cli: sizes cost a walk of each writable layer, so they are computed for -s or
            // for a format that shows them, unless --size=false was given.
            bool quietOnly = parse.GetValue(quiet);
            bool sizes = parse.GetValue(size) || (!quietOnly && parse.GetResult(size) is null or { Implicit: true } && UsesSize(fmt));
            var imageSizes = new Dictionary<string, long>(StringComparer.Ordinal);
            var rows = new List<string[]>();
            var lines = new List<string>();
            if (template is not null && table)
                lines.Add(template.Execute(HeaderContext(), GoTemplate.Missing.Error, "*formatter.ContainerContext", HeaderLabel));
            var records = services.Containers.List();
            if (n > 0)
                records = records.Take(n).ToList();
            foreach (var record in records)
            {
                var state = live.Read(record);
                if (!showAll && !state.Running)
                    continue;
                if (!filter.Matches(record, state, services.Images))
                    continue;
                var id = full ? record.Id : record.Id[..12];
                if (quietOnly)
                {
                    Console.WriteLine(id);
                    continue;
                }
                var command = CommandLine(record);
                if (!full && command.Length > 20)
                    command = command[..19] + "…";
                command = $"\"{command}\"";
                var status = state.Describe(now);
                var sizeText = sizes ? SizeOf(services, record, imageSizes) : Units.HumanSize(0, 3);
                if (fmt == "json" || template is not null)
                {
                    var entry = new PsEntry
                    {
                        ID = id,
                        Image = record.ImageRef,
                        Command = command,
                        CreatedAt = Units.GoTime(record.Created),
                        RunningFor = ContainerState.HumanDuration(now - record.Created) + " ago",
                        State = state.Status,
                        Status = status,
                        Names = record.Name,
                        Labels = string.Join(',', record.Config.Labels.Select(kv => $"{kv.Key}={kv.Value}")),
                        Mounts = string.Join(',', record.Mounts.Select(m => m.Name ?? m.Source)),
                        Networks = record.HostConfig.NetworkMode,
                        Size = sizeText,
                    };
                    if (template is null)
                    {
                        Console.WriteLine(GoTemplate.Json(JsonSerializer.SerializeToNode(entry, PsJsonContext.Default.PsEntry)));
                        continue;
                    }
                    var labels = record.Config.Labels;
                    lines.Add(template.Execute(JsonSerializer.SerializeToNode(entry, PsJsonContext.Default.PsEntry),
                        GoTemplate.Missing.Error, "*formatter.ContainerContext",
                        (method, args) => method == "Label" && args.Count == 1
                            ? JsonValue.Create(labels.GetValueOrDefault(GoTemplate.Print(args[0]), ""))
                            : null));
                    continue;
                }
                string[] row = [id, record.ImageRef, command, ContainerState.HumanDuration(now - record.Created) + " ago", status, "", record.Name];
                rows.Add(sizes ? [.. row, sizeText] : row);
            }
            if (template is not null)
                Console.Out.Write(table ? GoTemplate.AlignTabs(lines) : string.Concat(lines.Select(l => l + "\n")));
            else if (!quietOnly && fmt is "" or "table")
            {
                string[] headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
                Table.Write(Console.Out, sizes ? [.. headers, "SIZE"] : headers, rows);
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>
    /// Whether the format prints Size: docker/cli runs the template once to see which fields it touches,
    /// and `{{json .}}` (so `--format json`) touches them all.
    /// </summary>
    private static bool UsesSize(string format) =>
        format == "json" || format.Contains(".Size", StringComparison.Ordinal) || WholeJson().IsMatch(format);

    [GeneratedRegex(@"\bjson\s+\.\s*-?\}\}")]
    private static partial Regex WholeJson();

    /// <summary>
    /// Docker's SIZE: what the container wrote (its writable layer), and "virtual" = that plus the
    /// unpacked size of its image, e.g. "2B (virtual 4.26MB)".
    /// </summary>
    private static string SizeOf(HiveletServices services, ContainerRecord record, Dictionary<string, long> imageSizes)
    {
        long written = services.Snapshots.ContainerChangesPath(record.Id) is { } changes ? PruneCommand.DirectorySize(changes) : 0;
        if (!imageSizes.TryGetValue(record.Image, out long image))
        {
            // An image removed with rmi -f leaves its containers without one: their virtual size is what they wrote.
            var stored = services.Images.List().FirstOrDefault(r => r.Id.ToString() == record.Image);
            image = stored is null ? 0 : StoredImage.Load(stored, services.Content).UnpackedSize(services.LayerSizes);
            imageSizes[record.Image] = image;
        }
        long total = written + image;
        return total > 0 ? $"{Units.HumanSize(written, 3)} (virtual {Units.HumanSize(total, 3)})" : Units.HumanSize(written, 3);
    }

    private static JsonObject HeaderContext()
    {
        var o = new JsonObject();
        foreach (var (field, header) in Headers)
            o[field] = header;
        return o;
    }

    /// <summary>The header of a `{{.Label "com.example.role"}}` column: the last dotted part, upper case ("ROLE").</summary>
    private static JsonNode? HeaderLabel(string method, IReadOnlyList<JsonNode?> args) =>
        method == "Label" && args.Count == 1
            ? JsonValue.Create(GoTemplate.Print(args[0]).Split('.')[^1].Replace('-', ' ').Replace('_', ' ').ToUpperInvariant())
            : null;

    public static string CommandLine(ContainerRecord record) =>
        string.Join(' ', new[] { record.Path }.Concat(record.Args).Where(s => s.Length > 0));
}
