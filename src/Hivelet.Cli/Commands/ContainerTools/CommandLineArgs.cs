namespace Hivelet.Cli.Commands.ContainerTools;

/// <summary>
/// Docker stops parsing flags at a verb's first argument: in `exec c sh -c "echo hi"` the `-c`
/// belongs to sh. System.CommandLine would take it as an option, so a `--` is inserted after the
/// first positional argument of such a verb before parsing.
/// </summary>
public static class CommandLineArgs
{
    private static readonly HashSet<string> GlobalValueOptions = ["--root", "--config", "--log-level"];

    /// <param name="verbs">Verb paths whose arguments after the first are the command, e.g. ["exec"], ["container", "exec"].</param>
    /// <param name="valueOptions">Options of those verbs that take a value (-e, --env, -u, ...).</param>
    public static string[] SeparateCommand(string[] args, IReadOnlyList<string[]> verbs, IReadOnlySet<string> valueOptions)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(valueOptions);
        int i = 0;
        var path = new List<string>();
        // Global options come before the verb.
        while (i < args.Length && args[i].StartsWith('-'))
        {
            if (args[i] == "--")
                return args;
            i += GlobalValueOptions.Contains(args[i]) ? 2 : 1;
        }
        foreach (var verb in verbs.OrderByDescending(v => v.Length))
        {
            if (i + verb.Length <= args.Length && verb.Select((w, k) => args[i + k] == w).All(x => x))
            {
                path.AddRange(verb);
                break;
            }
        }
        if (path.Count == 0)
            return args;
        i += path.Count;
        while (i < args.Length)
        {
            var a = args[i];
            if (a == "--")
                return args;
            if (a.StartsWith('-') && a.Length > 1)
            {
                bool takesValue = !a.Contains('=', StringComparison.Ordinal) && (valueOptions.Contains(a)
                    // A bundle of short flags ending in a value option: -ite VAR=1.
                    || (!a.StartsWith("--", StringComparison.Ordinal) && valueOptions.Contains("-" + a[^1])));
                i += takesValue ? 2 : 1;
                continue;
            }
            // The first positional argument (the container); the command follows it.
            if (i + 1 < args.Length && args[i + 1] != "--")
                return [.. args[..(i + 1)], "--", .. args[(i + 1)..]];
            return args;
        }
        return args;
    }
}
