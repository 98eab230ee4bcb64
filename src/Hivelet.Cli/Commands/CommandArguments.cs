using Hivelet.Cli.Commands.Containers;
using Hivelet.Cli.Commands.ContainerTools;
using Hivelet.Text;

namespace Hivelet.Cli.Commands;

/// <summary>The verbs whose arguments after the first positional one are the container's command.</summary>
public static class CommandArguments
{
    private static readonly HashSet<string> GlobalValueOptions = ["--root", "--config", "--log-level"];

    private static readonly CommandSeparator.Verb[] Verbs =
    [
        new(["run"], RunArguments.TakesValue, RunArguments.Renames),
        new(["create"], RunArguments.TakesValue, RunArguments.Renames),
        new(["container", "run"], RunArguments.TakesValue, RunArguments.Renames),
        new(["container", "create"], RunArguments.TakesValue, RunArguments.Renames),
        new(["exec"], CommandSeparator.ValueOptions(ExecCommand.ValueOptions)),
        new(["container", "exec"], CommandSeparator.ValueOptions(ExecCommand.ValueOptions)),
    ];

    public static string[] Separate(string[] args) => CommandSeparator.Separate(args, Verbs, GlobalValueOptions);
}
