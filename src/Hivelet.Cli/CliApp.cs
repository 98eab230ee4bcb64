using System.CommandLine;
using Hivelet.Cli.Commands;
using Hivelet.Cli.Commands.Containers;
using Hivelet.Cli.Commands.ContainerTools;
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
        root.Subcommands.Add(PullCommand.Create(globals));
        root.Subcommands.Add(PushCommand.Create(globals));
        root.Subcommands.Add(ImagesCommand.Create(globals));
        root.Subcommands.Add(TagCommand.Create(globals));
        root.Subcommands.Add(RmiCommand.Create(globals));
        root.Subcommands.Add(LoginCommand.Create(globals));
        root.Subcommands.Add(LogoutCommand.Create(globals));
        root.Subcommands.Add(LoadCommand.Create(globals));
        root.Subcommands.Add(SaveCommand.Create(globals));

        var image = new Command("image", "Manage images");
        image.Subcommands.Add(ImagesCommand.Create(globals, "ls"));
        image.Subcommands.Add(ImageInspectCommand.Create(globals));
        image.Subcommands.Add(PullCommand.Create(globals));
        image.Subcommands.Add(PushCommand.Create(globals));
        image.Subcommands.Add(TagCommand.Create(globals));
        image.Subcommands.Add(RmiCommand.Create(globals, "rm"));
        image.Subcommands.Add(ImagePruneCommand.Create(globals));
        image.Subcommands.Add(LoadCommand.Create(globals));
        image.Subcommands.Add(SaveCommand.Create(globals));
        root.Subcommands.Add(image);
        ContainerToolsVerbs.AddTo(root, globals);

        root.Subcommands.Add(RunCommand.Create(globals));
        root.Subcommands.Add(CreateCommand.Create(globals));
        root.Subcommands.Add(StartCommand.Create(globals));
        root.Subcommands.Add(ContainerVerbs.Stop(globals));
        root.Subcommands.Add(ContainerVerbs.Restart(globals));
        root.Subcommands.Add(ContainerVerbs.Kill(globals));
        root.Subcommands.Add(ContainerVerbs.Remove(globals));
        root.Subcommands.Add(ContainerVerbs.Wait(globals));
        root.Subcommands.Add(PsCommand.Create(globals));
        root.Subcommands.Add(InspectCommand.Create(globals, containersOnly: false));
        var container = new Command("container", "Manage containers");
        container.Subcommands.Add(RunCommand.Create(globals));
        container.Subcommands.Add(CreateCommand.Create(globals));
        container.Subcommands.Add(StartCommand.Create(globals));
        container.Subcommands.Add(ContainerVerbs.Stop(globals));
        container.Subcommands.Add(ContainerVerbs.Restart(globals));
        container.Subcommands.Add(ContainerVerbs.Kill(globals));
        container.Subcommands.Add(ContainerVerbs.Remove(globals));
        container.Subcommands.Add(ContainerVerbs.Wait(globals));
        container.Subcommands.Add(PsCommand.Create(globals, "ls"));
        container.Subcommands.Add(PsCommand.Create(globals, "ps"));
        container.Subcommands.Add(InspectCommand.Create(globals, containersOnly: true));
        ContainerToolsVerbs.AddToContainerGroup(container, globals);
        root.Subcommands.Add(container);
        root.Subcommands.Add(VolumeCommand.Create(globals));

        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        // Like docker: no arguments shows the help.
        var parse = root.Parse(args.Length == 0 ? ["--help"] : CommandArguments.Separate(args));
        if (parse.Errors.Count > 0)
        {
            // Docker exits 125 for usage errors, with the reason and a pointer to help.
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"hivelet: {error.Message}");
            await Console.Error.WriteLineAsync($"See '{string.Join(' ', CommandPath(parse))} --help'.");
            return ExitCodes.HiveletError;
        }
        try
        {
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
        catch (Exception e)
        {
            // A bug, not a user error: one line by default, the trace when asked for.
            await Console.Error.WriteLineAsync($"hivelet: internal error: {HiveletException.Describe(e)}");
            if (parse.GetValue(globals.LogLevel) <= Microsoft.Extensions.Logging.LogLevel.Debug)
                await Console.Error.WriteLineAsync(e.ToString());
            return ExitCodes.HiveletError;
        }
    }

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, c.Command is RootCommand ? "hivelet" : c.Command.Name);
        return names;
    }
}
