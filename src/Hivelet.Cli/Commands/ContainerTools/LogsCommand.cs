using System.CommandLine;
using System.Globalization;
using Hivelet.Errors;
using Hivelet.Runtime.Logs;
using Microsoft.Extensions.Logging;

namespace Hivelet.Cli.Commands.ContainerTools;

public static class LogsCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Follow log output" };
        var tail = new Option<string>("--tail", "-n") { Description = "Number of lines to show from the end of the logs (default \"all\")", DefaultValueFactory = _ => "all" };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "Show timestamps" };
        var since = new Option<string?>("--since") { Description = "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)" };
        var until = new Option<string?>("--until") { Description = "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)" };
        var details = new Option<bool>("--details") { Description = "Accepted for compatibility (no extra attributes are logged)" };
        var container = new Argument<string>("CONTAINER");
        var cmd = new Command("logs", "Fetch the logs of a container") { follow, tail, timestamps, since, until, details, container };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            var options = new LogReadOptions
            {
                Follow = parse.GetValue(follow),
                Tail = ParseTail(parse.GetValue(tail)!),
                Since = parse.GetValue(since) is { } s ? TimeArgument.Parse(s, now, "--since") : null,
                Until = parse.GetValue(until) is { } u ? TimeArgument.Parse(u, now, "--until") : null,
            };
            var tools = new ToolServices(services);
            var record = tools.Store.Find(parse.GetValue(container)!);
            var bundle = tools.Store.BundleDir(record.Id);
            using var stdout = new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
            using var stderr = new BufferedStream(Console.OpenStandardError(), 16 * 1024);
            var writer = new LogWriter(stdout, stderr, parse.GetValue(timestamps), flushEachEntry: options.Follow);
            var reader = new LogReader(services.LoggerFactory.CreateLogger<LogReader>());
            try
            {
                reader.Read(LogFiles.PathFor(bundle, record.Id), options, writer.Write,
                    () => tools.Live.ReadStatus(record.Id) is { IsExited: false }, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C ends a follow, as in Docker: not an error.
            }
            catch (IOException e) when (IsBrokenPipe(e))
            {
                // `logs | head`: the reader went away.
            }
            try
            {
                stdout.Flush();
                stderr.Flush();
            }
            catch (IOException e) when (IsBrokenPipe(e))
            {
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static bool IsBrokenPipe(IOException e) => e.HResult == 32 || e.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase);

    /// <summary>"all", or a count; Docker treats a negative count as all.</summary>
    internal static int? ParseTail(string value)
    {
        if (value == "all")
            return null;
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            return n < 0 ? null : n;
        throw new InvalidInputException($"invalid value \"{value}\" for flag --tail: expected a number or \"all\"");
    }
}
