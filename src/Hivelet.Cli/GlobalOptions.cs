using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Hivelet.Cli;

/// <summary>Options every verb accepts: where state lives and how chatty the log is.</summary>
public sealed class GlobalOptions
{
    public const string DefaultRoot = "/var/lib/hivelet";

    public Option<string> Root { get; } = new("--root")
    {
        Description = "Directory for all hivelet state (env HIVELET_ROOT)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HIVELET_ROOT") is { Length: > 0 } r ? r : DefaultRoot,
    };

    public Option<string> Config { get; } = new("--config")
    {
        Description = "Configuration file (env HIVELET_CONFIG)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HIVELET_CONFIG") is { Length: > 0 } c ? c : HiveletConfig.DefaultPath,
    };

    public Option<LogLevel> LogLevel { get; } = new("--log-level")
    {
        Description = "Log level: Trace, Debug, Information, Warning, Error, Critical, None",
        Recursive = true,
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Warning,
    };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Root);
        root.Options.Add(Config);
        root.Options.Add(LogLevel);
    }

    public ILoggerFactory CreateLoggerFactory(ParseResult parse)
    {
        var level = parse.GetValue(LogLevel);
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
            // Logs go to stderr so stdout stays for command output (digests, JSON).
            b.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = Microsoft.Extensions.Logging.LogLevel.Trace);
        });
    }
}
