using System.Globalization;
using System.Text.RegularExpressions;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Runtime.Containers;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>
/// `ps --filter KEY=VALUE` as Docker reads it: values of one key are alternatives, different keys must
/// all match, except label, whose filters must all match. A status or exited filter shows stopped
/// containers without -a.
/// </summary>
internal sealed class PsFilter
{
    private static readonly HashSet<string> Keys = ["status", "name", "id", "label", "ancestor", "exited"];
    private static readonly HashSet<string> States = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

    private readonly Dictionary<string, List<string>> _values;

    private PsFilter(Dictionary<string, List<string>> values) => _values = values;

    public static PsFilter Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new InvalidInputException($"bad format of filter (expected name=value): {arg}");
            var key = arg[..eq].Trim().ToLowerInvariant();
            var value = arg[(eq + 1)..];
            if (!Keys.Contains(key))
                throw new InvalidInputException($"invalid filter '{arg[..eq]}'");
            if (key == "status" && !States.Contains(value))
                throw new InvalidInputException($"invalid filter 'status={value}': one of {string.Join(", ", States)}");
            if (key == "exited" && !int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                throw new InvalidInputException($"invalid filter 'exited={value}': not an exit code");
            if (key == "name")
                CheckRegex(value);
            if (!values.TryGetValue(key, out var list))
                values[key] = list = [];
            list.Add(value);
        }
        return new PsFilter(values);
    }

    public bool ShowsStopped => _values.ContainsKey("status") || _values.ContainsKey("exited");

    public bool Matches(ContainerRecord record, ContainerState state, ImageStore images)
    {
        foreach (var (key, values) in _values)
        {
            bool ok = key switch
            {
                "id" => values.Any(v => record.Id.StartsWith(v, StringComparison.Ordinal)),
                // Docker matches the name as a regular expression against "/name".
                "name" => values.Any(v => Regex.IsMatch("/" + record.Name, v, RegexOptions.None, TimeSpan.FromSeconds(1))),
                "status" => values.Contains(state.Status),
                "exited" => state.Status == "exited" && values.Any(v => int.Parse(v, CultureInfo.InvariantCulture) == state.ExitCode),
                "label" => values.All(v => HasLabel(record, v)),
                _ => values.Any(v => IsAncestor(record, v, images)),
            };
            if (!ok)
                return false;
        }
        return true;
    }

    private static bool HasLabel(ContainerRecord record, string filter)
    {
        int eq = filter.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0)
            return record.Config.Labels.ContainsKey(filter);
        return record.Config.Labels.TryGetValue(filter[..eq], out var value) && value == filter[(eq + 1)..];
    }

    /// <summary>The image the container was created from, by the name it was given, any name of that image, or its ID.</summary>
    private static bool IsAncestor(ContainerRecord record, string image, ImageStore images)
    {
        if (record.ImageRef == image)
            return true;
        try
        {
            return ImageLookup.Find(images, image).Any(r => r.Id.ToString() == record.Image);
        }
        catch (HiveletException)
        {
            return false;
        }
    }

    private static void CheckRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException($"invalid filter 'name={pattern}': {e.Message}");
        }
    }
}
