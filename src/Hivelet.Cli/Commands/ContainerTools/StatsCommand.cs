using System.CommandLine;
using System.Text.Json;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Stats;

namespace Hivelet.Cli.Commands.ContainerTools;

public static class StatsCommand
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static Command Create(GlobalOptions globals)
    {
        var all = new Option<bool>("--all", "-a") { Description = "Show all containers (default shows just running)" };
        var noStream = new Option<bool>("--no-stream") { Description = "Disable streaming stats and only pull the first result" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Do not truncate output" };
        var format = new Option<string>("--format") { Description = "\"table\" (default) or \"json\"", DefaultValueFactory = _ => "table" };
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("stats", "Display a live stream of container(s) resource usage statistics")
        {
            all, noStream, noTrunc, format, containers,
        };
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            var fmt = parse.GetValue(format)!;
            if (fmt is not ("table" or "json"))
                throw new InvalidInputException($"invalid value \"{fmt}\" for flag --format: expected \"table\" or \"json\"");
            var tools = new ToolServices(services);
            var named = parse.GetValue(containers) ?? [];
            List<ContainerRecord> targets = named.Length > 0
                ? named.Select(tools.Store.Find).ToList()
                : tools.Store.List().Where(r => parse.GetValue(all) || tools.Live.ReadStatus(r.Id) is { IsExited: false }).ToList();
            ulong hostMemory = StatsCollector.HostMemoryBytes();
            bool stream = !parse.GetValue(noStream);
            bool redraw = stream && !Console.IsOutputRedirected && fmt == "table";
            var previous = new Dictionary<string, StatsSample>();
            try
            {
                // Docker's first reading already has a CPU %: it waits one interval for a second sample.
                Sample(tools, targets, previous, out _);
                await Task.Delay(Interval, ct).ConfigureAwait(false);
                while (true)
                {
                    var rows = Sample(tools, targets, previous, out bool anyRunning);
                    if (redraw)
                        Console.Write("\u001b[2J\u001b[H");
                    Print(rows, hostMemory, fmt, parse.GetValue(noTrunc));
                    // Bounded: without -a the stream ends once nothing it shows is running.
                    if (!stream || (!anyRunning && !parse.GetValue(all)))
                        return 0;
                    await Task.Delay(Interval, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return 0;
            }

            void Print(List<(ContainerRecord Record, StatsSample? Before, StatsSample? Now)> rows, ulong host, string f, bool full)
            {
                var cells = rows.Select(r =>
                {
                    var row = r.Now is null
                        ? new StatsRow(0, 0, 0, 0, 0, 0, 0, 0, 0)
                        : StatsCalculator.Compute(r.Before, r.Now, host);
                    return (r.Record, Row: row);
                }).ToList();
                if (f == "json")
                {
                    foreach (var (record, row) in cells)
                        Console.WriteLine(JsonSerializer.Serialize(StatsJson.From(full ? record.Id : record.Id[..12], record.Name, row), StatsJsonContext.Default.StatsJson));
                    return;
                }
                var table = cells.Select(c =>
                {
                    var line = StatsFormat.Cells(c.Record.Id, c.Record.Name, c.Row);
                    if (full)
                        line[0] = c.Record.Id;
                    return line;
                }).ToList();
                Table.Write(Console.Out, StatsFormat.Header, table);
            }
        });
        return cmd;
    }

    private static List<(ContainerRecord, StatsSample?, StatsSample?)> Sample(ToolServices tools, List<ContainerRecord> targets,
        Dictionary<string, StatsSample> previous, out bool anyRunning)
    {
        anyRunning = false;
        var rows = new List<(ContainerRecord, StatsSample?, StatsSample?)>();
        foreach (var record in targets)
        {
            var status = tools.Live.ReadStatus(record.Id);
            ICgroup? cgroup = status is { IsExited: false } ? tools.Cgroups.Open(record.Id) : null;
            if (cgroup is null || status is null)
            {
                previous.Remove(record.Id);
                rows.Add((record, null, null));
                continue;
            }
            anyRunning = true;
            var now = StatsCollector.Sample(cgroup, status.Pid, record.HostConfig.NetworkMode == "host", DateTimeOffset.UtcNow);
            previous.TryGetValue(record.Id, out var before);
            previous[record.Id] = now;
            rows.Add((record, before, now));
        }
        return rows;
    }
}
