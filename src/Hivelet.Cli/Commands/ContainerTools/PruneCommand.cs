using System.CommandLine;
using System.Globalization;
using Hivelet.Errors;

namespace Hivelet.Cli.Commands.ContainerTools;

/// <summary>`hivelet container prune [-f]`: removes every container that is not running or restarting.</summary>
public static class PruneCommand
{
    private const string Warning = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ";

    public static Command Create(GlobalOptions globals)
    {
        var force = new Option<bool>("--force", "-f") { Description = "Do not prompt for confirmation" };
        var cmd = new Command("prune", "Remove all stopped containers") { force };
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            if (!parse.GetValue(force) && !Confirm())
                return 0;
            var tools = new ToolServices(services);
            var runtime = services.CreateRuntime();
            var deleted = new List<string>();
            long reclaimed = 0;
            foreach (var record in tools.Store.List())
            {
                if (tools.Live.Read(record).Running)
                    continue;
                // The bundle and what the container wrote into its writable layer (never its merged view).
                long size = DirectorySize(tools.Store.BundleDir(record.Id)) +
                    (services.Snapshots.ContainerChangesPath(record.Id) is { } changes ? DirectorySize(changes) : 0);
                await runtime.RemoveAsync(record, force: false, removeVolumes: false, ct).ConfigureAwait(false);
                deleted.Add(record.Id);
                reclaimed += size;
            }
            if (deleted.Count > 0)
            {
                Console.WriteLine("Deleted Containers:");
                foreach (var id in deleted)
                    Console.WriteLine(id);
                Console.WriteLine();
            }
            Console.WriteLine($"Total reclaimed space: {HumanSize(reclaimed)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Docker's prompt; without a terminal on stdin there is nobody to answer, so refuse.</summary>
    private static bool Confirm()
    {
        if (Console.IsInputRedirected)
            throw new InvalidInputException("container prune: stdin is not a terminal, cannot ask for confirmation: use --force to remove all stopped containers");
        Console.Write(Warning);
        var answer = Console.ReadLine()?.Trim();
        return answer is "y" or "Y" or "yes" or "Yes" or "YES";
    }

    /// <summary>The bytes of the regular files under <paramref name="dir"/>, symlinks not followed; 0 if it is gone.</summary>
    internal static long DirectorySize(string dir)
    {
        long total = 0;
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
            foreach (var file in new DirectoryInfo(dir).EnumerateFiles("*", options))
                total += file.Length;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return total;
    }

    /// <summary>Docker's units.HumanSize: decimal units, four significant digits ("0B", "1.5kB", "12.35MB").</summary>
    internal static string HumanSize(long bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB"];
        double size = bytes;
        int i = 0;
        while (size >= 1000 && i < units.Length - 1)
        {
            size /= 1000;
            i++;
        }
        return size.ToString("G4", CultureInfo.InvariantCulture) + units[i];
    }
}
