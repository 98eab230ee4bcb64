using System.CommandLine;
using Hivelet.Cli.Output;
using Hivelet.Images.Content;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class ImagePruneCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var all = new Option<bool>("--all", "-a") { Description = "Remove all unused images, not just dangling ones" };
        var force = new Option<bool>("--force", "-f") { Description = "Do not prompt for confirmation" };
        var cmd = new Command("prune", "Remove unused images and free the space they take") { all, force };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            bool everything = parse.GetValue(all);
            if (!parse.GetValue(force))
            {
                Console.Write(everything
                    ? "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] "
                    : "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ");
                var answer = Console.In.ReadLine();
                if (answer is null || !answer.Trim().StartsWith('y'))
                    return Task.FromResult(0);
            }
            var removed = new List<ImageRecord>();
            // An image a container uses (running or not) is never unused, dangling or not.
            var used = services.ImageUsers.List().Select(u => u.ImageId).ToHashSet();
            foreach (var record in services.Images.List())
            {
                // Dangling: known only by digest, no tag points at it.
                bool dangling = StoredImage.Split(record).Tag == "<none>";
                if ((everything || dangling) && !used.Contains(record.Id) && services.Images.Delete(record.Name))
                    removed.Add(record);
            }
            // Docker lists the names it untagged, then the image IDs that lost their last name.
            var remaining = services.Images.List().Select(r => r.Id).ToHashSet();
            var deletedIds = removed.Select(r => r.Id).Distinct().Where(id => !remaining.Contains(id)).ToList();
            var gc = RmiCommand.CollectQuietly(services);
            if (removed.Count > 0)
            {
                Console.WriteLine("Deleted Images:");
                foreach (var record in removed.Where(r => !r.IsDangling))
                    Console.WriteLine($"untagged: {ImageReference.Parse(record.Name).FamiliarString()}");
                foreach (var id in deletedIds)
                    Console.WriteLine($"deleted: {id}");
                Console.WriteLine();
            }
            Console.WriteLine($"Total reclaimed space: {Units.HumanSize(gc?.BytesFreed ?? 0)}");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
