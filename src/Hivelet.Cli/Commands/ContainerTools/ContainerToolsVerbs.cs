using System.CommandLine;

namespace Hivelet.Cli.Commands.ContainerTools;

/// <summary>The registration of logs, exec, stats, top, cp, container prune and info (one line each in CliApp).</summary>
public static class ContainerToolsVerbs
{
    /// <summary>Root-level verbs: `hivelet logs`, `hivelet exec`, ...</summary>
    public static void AddTo(RootCommand root, GlobalOptions globals)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Subcommands.Add(LogsCommand.Create(globals));
        root.Subcommands.Add(ExecCommand.Create(globals));
        root.Subcommands.Add(StatsCommand.Create(globals));
        root.Subcommands.Add(TopCommand.Create(globals));
        root.Subcommands.Add(CpCommand.Create(globals));
        root.Subcommands.Add(InfoCommand.Create(globals));
        root.Subcommands.Add(new Command("system", "Manage hivelet") { InfoCommand.Create(globals) });
    }

    /// <summary>The same verbs under `hivelet container`.</summary>
    public static void AddToContainerGroup(Command container, GlobalOptions globals)
    {
        ArgumentNullException.ThrowIfNull(container);
        container.Subcommands.Add(LogsCommand.Create(globals));
        container.Subcommands.Add(ExecCommand.Create(globals));
        container.Subcommands.Add(StatsCommand.Create(globals));
        container.Subcommands.Add(TopCommand.Create(globals));
        container.Subcommands.Add(CpCommand.Create(globals));
        container.Subcommands.Add(PruneCommand.Create(globals));
    }
}
