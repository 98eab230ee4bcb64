using System.CommandLine;
using Hivelet.Images.Platforms;

namespace Hivelet.Cli.Commands;

internal static class CommandHelpers
{
    /// <summary>Runs an async verb with the services built for this invocation.</summary>
    public static void SetServicesAction(this Command command, GlobalOptions globals,
        Func<ParseResult, HiveletServices, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, ct) =>
        {
            using var services = new HiveletServices(globals, parse);
            return await action(parse, services, ct).ConfigureAwait(false);
        });

    public static Option<string?> PlatformOption() => new("--platform")
    {
        Description = "Platform os/arch[/variant], e.g. linux/arm64/v8 (default: this host)",
    };

    public static PlatformSpec ResolvePlatform(string? value) =>
        string.IsNullOrEmpty(value) ? HostPlatform.Detect() : PlatformSpec.Parse(value);

    /// <summary>Progress bars only when a person is watching.</summary>
    public static bool StdoutIsTerminal => !Console.IsOutputRedirected;
}
