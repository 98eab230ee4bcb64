namespace Hivelet.Text;

/// <summary>
/// Docker stops parsing a verb's flags at its first positional argument: in `run busybox ls -l` and
/// `exec box sh -c "echo hi"` the `-l` and `-c` belong to the container's command. System.CommandLine
/// has no such mode, so before parsing a `--` is inserted after that argument (a `--` the user wrote
/// after it then reaches the command, as with Docker), and a verb's short flags that mean something
/// else to the parser are renamed (run's `-h` is --hostname, not help).
/// </summary>
public static class CommandSeparator
{
    /// <summary>
    /// A verb (its words, e.g. ["container", "exec"]), which of its options take the next argument as
    /// their value, and renames applied to its flags.
    /// </summary>
    public sealed record Verb(string[] Path, Func<string, bool> TakesValue, IReadOnlyDictionary<string, string>? Renames = null);

    /// <summary>
    /// A <see cref="Verb.TakesValue"/> from the options that take a value: "-e", "--env=X" carries its own,
    /// a bundle of short flags ending in one ("-ie") takes the next argument.
    /// </summary>
    public static Func<string, bool> ValueOptions(IReadOnlySet<string> options) => a =>
        !a.Contains('=', StringComparison.Ordinal) &&
        (options.Contains(a) || (!a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2 && options.Contains("-" + a[^1])));

    /// <summary>
    /// Rewrites <paramref name="args"/> for the first of <paramref name="verbs"/> it names (the longest
    /// path wins), after global options (<paramref name="globalValueOptions"/> take a value); other
    /// command lines are returned as they are.
    /// </summary>
    public static string[] Separate(string[] args, IReadOnlyList<Verb> verbs, IReadOnlySet<string> globalValueOptions)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(globalValueOptions);
        int i = 0;
        while (i < args.Length && args[i].StartsWith('-'))
        {
            if (args[i] == "--")
                return args;
            i += globalValueOptions.Contains(args[i]) ? 2 : 1;
        }
        var verb = verbs.OrderByDescending(v => v.Path.Length)
            .FirstOrDefault(v => i + v.Path.Length <= args.Length && v.Path.Select((w, k) => args[i + k] == w).All(x => x));
        if (verb is null)
            return args;
        i += verb.Path.Length;
        var result = new List<string>(args[..i]);
        for (; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                result.AddRange(args[i..]);
                return [.. result];
            }
            if (a.StartsWith('-') && a.Length > 1)
            {
                var flag = verb.Renames is not null && verb.Renames.TryGetValue(a, out var renamed) ? renamed : a;
                result.Add(flag);
                if (verb.TakesValue(flag) && i + 1 < args.Length)
                    result.Add(args[++i]);
                continue;
            }
            // The first positional argument (image or container); the command follows it.
            result.Add(a);
            if (i + 1 < args.Length)
            {
                result.Add("--");
                result.AddRange(args[(i + 1)..]);
            }
            return [.. result];
        }
        return [.. result];
    }
}
