using System.CommandLine;
using Hivelet.Images.Content;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class TagCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var source = new Argument<string>("SOURCE_IMAGE[:TAG]");
        var target = new Argument<string>("TARGET_IMAGE[:TAG]");
        var cmd = new Command("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE") { source, target };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var record = ImageLookup.FindOne(services.Images, parse.GetValue(source)!);
            var targetRef = ImageReference.Parse(parse.GetValue(target)!);
            if (targetRef.Digest is not null)
                throw new Errors.InvalidInputException($"refusing to create a tag with a digest reference: {targetRef}");
            var name = targetRef.WithDefaultTag().ToString();
            using var lease = services.StoreLock.AcquireLease(StoreLock.DefaultLeaseWait);
            services.Images.Put(record with
            {
                Name = name,
                Created = DateTimeOffset.UtcNow,
                // A repository digest says where the registry holds this content; it does not carry over to another repository.
                RepoDigests = record.RepoDigests.Where(d => d.StartsWith(targetRef.Name + "@", StringComparison.Ordinal)).ToList(),
            });
            return Task.FromResult(0);
        });
        return cmd;
    }
}
