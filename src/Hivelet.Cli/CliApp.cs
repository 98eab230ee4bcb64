using System.CommandLine;
using Hivelet.Cli.Commands;
using Hivelet.Errors;

namespace Hivelet.Cli;

/// <summary>The composition root: global options, the verbs, and error-to-exit-code mapping.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("hivelet: a container agent for ARM boards (images, containers, swarm worker)");
        globals.AddTo(root);

        root.Subcommands.Add(VersionCommand.Create(globals));

        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                // One line on stderr (like Docker's "'x' is not a docker command"), not the whole help.
                await Console.Error.WriteLineAsync($"hivelet: {parse.Errors[^1].Message} See 'hivelet --help'.");
                return ExitCodes.HiveletError;
            }
            return await parse.InvokeAsync(config);
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("hivelet: interrupted");
            return 130;
        }
        catch (HiveletException e)
        {
            await Console.Error.WriteLineAsync($"hivelet: {HiveletException.Describe(e)}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException
                                      or System.Text.Json.JsonException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync($"hivelet: {HiveletException.Describe(e)}");
            return ExitCodes.HiveletError;
        }
    }
}
