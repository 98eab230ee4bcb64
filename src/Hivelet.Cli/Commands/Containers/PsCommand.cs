using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Runtime.Containers;

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
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PsEntry))]
[JsonSerializable(typeof(List<ContainerInspect>))]
[JsonSerializable(typeof(List<Runtime.Volumes.Volume>))]
internal sealed partial class ContainerCliJsonContext : JsonSerializerContext;

public static class PsCommand
{
    public static Command Create(GlobalOptions globals, string name = "ps")
    {
        var all = new Option<bool>("--all", "-a") { Description = "Show all containers (default shows just running)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only display container IDs" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Don't truncate output" };
        var last = new Option<int>("--last", "-n") { Description = "Show n last created containers (includes all states)", DefaultValueFactory = _ => -1 };
        var latest = new Option<bool>("--latest", "-l") { Description = "Show the latest created container (includes all states)" };
        var format = new Option<string?>("--format") { Description = "Format output: table (default) or json" };
        var cmd = new Command(name, "List containers") { all, quiet, noTrunc, last, latest, format };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var now = DateTimeOffset.UtcNow;
            var live = services.Live;
            int n = parse.GetValue(latest) ? 1 : parse.GetValue(last);
            bool showAll = parse.GetValue(all) || n > 0;
            bool full = parse.GetValue(noTrunc);
            var fmt = parse.GetValue(format) ?? "table";
            if (fmt is not ("table" or "json"))
                throw new InvalidInputException($"ps: unsupported format \"{fmt}\" (table or json)");
            var rows = new List<string[]>();
            var records = services.Containers.List();
            if (n > 0)
                records = records.Take(n).ToList();
            foreach (var record in records)
            {
                var state = live.Read(record);
                if (!showAll && !state.Running)
                    continue;
                var id = full ? record.Id : record.Id[..12];
                if (parse.GetValue(quiet))
                {
                    Console.WriteLine(id);
                    continue;
                }
                var command = CommandLine(record);
                if (!full && command.Length > 20)
                    command = command[..19] + "…";
                command = $"\"{command}\"";
                var status = state.Describe(now);
                if (fmt == "json")
                {
                    Console.WriteLine(JsonSerializer.Serialize(new PsEntry
                    {
                        ID = id,
                        Image = record.ImageRef,
                        Command = command,
                        CreatedAt = record.Created.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture),
                        RunningFor = ContainerState.HumanDuration(now - record.Created) + " ago",
                        State = state.Status,
                        Status = status,
                        Names = record.Name,
                        Labels = string.Join(',', record.Config.Labels.Select(kv => $"{kv.Key}={kv.Value}")),
                        Mounts = string.Join(',', record.Mounts.Select(m => m.Name ?? m.Source)),
                        Networks = record.HostConfig.NetworkMode,
                    }, ContainerCliJsonContext.Default.PsEntry));
                    continue;
                }
                rows.Add([id, record.ImageRef, command, ContainerState.HumanDuration(now - record.Created) + " ago", status, "", record.Name]);
            }
            if (!parse.GetValue(quiet) && fmt == "table")
                Table.Write(Console.Out, ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], rows);
            return Task.FromResult(0);
        });
        return cmd;
    }

    public static string CommandLine(ContainerRecord record) =>
        string.Join(' ', new[] { record.Path }.Concat(record.Args).Where(s => s.Length > 0));
}
