using System.CommandLine;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class RmiCommand
{
    public static Command Create(GlobalOptions globals, string name = "rmi")
    {
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Remove the image even if it has several tags or stopped containers use it" };
        var cmd = new Command(name, "Remove one or more images") { images, force };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            int failures = 0;
            bool deletedAny = false;
            foreach (var arg in parse.GetValue(images)!)
            {
                try
                {
                    deletedAny |= Remove(services, arg, parse.GetValue(force));
                }
                catch (HiveletException e)
                {
                    Console.Error.WriteLine($"Error response: {HiveletException.Describe(e)}");
                    failures++;
                }
            }
            if (deletedAny)
                CollectQuietly(services);
            return Task.FromResult(failures == 0 ? 0 : 1);
        });
        return cmd;
    }

    /// <summary>Untags the named record, or every record of an ID; true when an image ID lost its last name.</summary>
    private static bool Remove(HiveletServices services, string arg, bool force)
    {
        var records = ImageLookup.Find(services.Images, arg);
        if (ImageReference.TryParse(arg, out var digestRef) && digestRef.Digest is { } digest && services.Images.Get(digestRef.ToString()) is null)
        {
            // name@digest found through a tag's repository digest: like Docker, drop only that reference;
            // the tags and the image stay.
            var repoDigest = $"{digestRef.Name}@{digest}";
            using var lease = services.StoreLock.AcquireLease(StoreLock.DefaultLeaseWait);
            foreach (var r in records)
                services.Images.Put(r with { RepoDigests = r.RepoDigests.Where(d => d != repoDigest).ToList() });
            Console.WriteLine($"Untagged: {digestRef.FamiliarName}@{digest}");
            return false;
        }
        bool byName = ImageReference.TryParse(arg, out var reference) &&
                      records.Count == 1 && records[0].Name == (reference.Digest is null ? reference.WithDefaultTag().ToString() : reference.ToString());
        var imageId = records[0].Id;
        // Containers stack on the image's snapshots and read its config at each start: Docker's conflicts.
        var users = services.ImageUsers.List().Where(u => u.ImageId == imageId).ToList();
        var running = users.FirstOrDefault(u => u.Running);
        int names = services.Images.List().Count(r => r.Id == imageId);
        if (byName)
        {
            if (!force && names == 1 && users.Count > 0)
            {
                throw new HiveletException(
                    $"conflict: unable to remove repository reference \"{reference!.WithDefaultTag().FamiliarString()}\" (must force) - container {users[0].ShortId} is using its referenced image {imageId.Short}");
            }
        }
        else
        {
            if (running is not null)
            {
                throw new HiveletException(
                    $"conflict: unable to delete {imageId.Short} (cannot be forced) - image is being used by running container {running.ShortId}");
            }
            if (!force && users.Count > 0)
            {
                throw new HiveletException(
                    $"conflict: unable to delete {imageId.Short} (must be forced) - image is being used by stopped container {users[0].ShortId}");
            }
        }
        if (!byName && records.Select(r => r.Name).Distinct().Count() > 1 && !force)
        {
            throw new HiveletException(
                $"conflict: unable to delete {records[0].Id.Short} (must be forced) - image is referenced in multiple repositories");
        }
        var id = records[0].Id;
        foreach (var r in records)
        {
            // A dangling image has no name to untag: Docker prints only "Deleted:".
            if (services.Images.Delete(r.Name) && !r.IsDangling)
            {
                var (repo, tag) = StoredImage.Split(r);
                Console.WriteLine(tag == "<none>" ? $"Untagged: {r.Name}" : $"Untagged: {repo}:{tag}");
            }
        }
        if (services.Images.List().Any(r => r.Id == id))
            return false;
        // Forced by name under a running container: Docker only untags; the image stays for the container
        // (the GC keeps what a container uses either way).
        if (running is not null)
            return false;
        Console.WriteLine($"Deleted: {id}");
        return true;
    }

    /// <summary>Frees blobs and snapshots; a concurrent pull only postpones that to the next prune.</summary>
    internal static GcResult? CollectQuietly(HiveletServices services)
    {
        try
        {
            return services.CreateCollector().Collect(dryRun: false);
        }
        catch (StoreBusyException e)
        {
            Console.Error.WriteLine($"warning: space not reclaimed yet ({e.Message}); run `hivelet image prune` later");
            return null;
        }
    }
}
