using System.CommandLine;
using System.Text.Json;
using Hivelet.Cli.Output;
using Hivelet.Errors;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>`volume create/ls/rm/inspect` over the named volumes under &lt;root&gt;/volumes.</summary>
public static class VolumeCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var volume = new Command("volume", "Manage volumes");

        var createName = new Argument<string?>("VOLUME") { Arity = ArgumentArity.ZeroOrOne };
        var labels = new Option<string[]>("--label", "-l") { Description = "Set metadata for a volume", AllowMultipleArgumentsPerToken = false };
        var create = new Command("create", "Create a volume") { createName, labels };
        create.SetServicesAction(globals, (parse, services, _) =>
        {
            var map = new Dictionary<string, string>();
            foreach (var l in parse.GetValue(labels) ?? [])
            {
                int eq = l.IndexOf('=', StringComparison.Ordinal);
                map[eq < 0 ? l : l[..eq]] = eq < 0 ? "" : l[(eq + 1)..];
            }
            var name = parse.GetValue(createName);
            var v = string.IsNullOrEmpty(name) ? services.Volumes.CreateAnonymous() : services.Volumes.Create(name, map);
            Console.WriteLine(v.Name);
            return Task.FromResult(0);
        });
        volume.Subcommands.Add(create);

        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only display volume names" };
        var ls = new Command("ls", "List volumes") { quiet };
        ls.Aliases.Add("list");
        ls.SetServicesAction(globals, (parse, services, _) =>
        {
            var all = services.Volumes.List();
            if (parse.GetValue(quiet))
            {
                foreach (var v in all)
                    Console.WriteLine(v.Name);
            }
            else
            {
                Table.Write(Console.Out, ["DRIVER", "VOLUME NAME"], all.Select(v => new[] { v.Driver, v.Name }).ToList());
            }
            return Task.FromResult(0);
        });
        volume.Subcommands.Add(ls);

        var rmNames = new Argument<string[]>("VOLUME") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Force the removal of one or more volumes" };
        var rm = new Command("rm", "Remove one or more volumes") { rmNames, force };
        rm.Aliases.Add("remove");
        rm.SetServicesAction(globals, (parse, services, _) =>
        {
            var runtime = services.CreateRuntime();
            int failures = 0;
            foreach (var name in parse.GetValue(rmNames)!)
            {
                try
                {
                    services.Volumes.Remove(name, parse.GetValue(force), runtime.VolumeUsers);
                    Console.WriteLine(name);
                }
                catch (HiveletException e)
                {
                    Console.Error.WriteLine($"Error response from daemon: {HiveletException.Describe(e)}");
                    failures++;
                }
            }
            return Task.FromResult(failures == 0 ? 0 : 1);
        });
        volume.Subcommands.Add(rm);

        var inspectNames = new Argument<string[]>("VOLUME") { Arity = ArgumentArity.OneOrMore };
        var inspect = new Command("inspect", "Display detailed information on one or more volumes") { inspectNames };
        inspect.SetServicesAction(globals, (parse, services, _) =>
        {
            var found = new List<Runtime.Volumes.Volume>();
            int failures = 0;
            foreach (var name in parse.GetValue(inspectNames)!)
            {
                if (services.Volumes.Get(name) is { } v)
                {
                    found.Add(v);
                }
                else
                {
                    Console.Error.WriteLine($"Error response from daemon: get {name}: no such volume");
                    failures++;
                }
            }
            Console.WriteLine(JsonSerializer.Serialize(found, ContainerCliJsonContext.Default.ListVolume));
            return Task.FromResult(failures == 0 ? 0 : 1);
        });
        volume.Subcommands.Add(inspect);
        return volume;
    }
}
