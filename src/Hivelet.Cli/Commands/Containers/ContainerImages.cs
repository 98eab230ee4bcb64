using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Pulling;
using Hivelet.Images.References;
using Hivelet.Runtime.Lifecycle;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>The image of a new container: found locally or pulled (`--pull missing|always|never`), unpacked.</summary>
internal static class ContainerImages
{
    public static async Task<ResolvedImage> ResolveAsync(HiveletServices services, string image, string? platform, string pull,
        CancellationToken ct)
    {
        if (pull is not ("missing" or "always" or "never"))
            throw new InvalidInputException($"invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\"");
        ImageRecord? record = null;
        if (pull != "always")
        {
            try
            {
                record = ImageLookup.FindOne(services.Images, image);
            }
            catch (NotFoundException) when (pull == "missing")
            {
            }
        }
        if (record is null)
        {
            var reference = ImageReference.Parse(image);
            if (pull == "missing")
                await Console.Error.WriteLineAsync($"Unable to find image '{reference.WithDefaultTag().FamiliarString()}' locally").ConfigureAwait(false);
            using var renderer = new PullProgressRenderer(Console.Error, !Console.IsErrorRedirected);
            record = await services.CreatePuller()
                .PullAsync(reference, CommandHelpers.ResolvePlatform(platform), renderer, ct).ConfigureAwait(false);
        }
        var stored = StoredImage.Load(record, services.Content);
        var chain = ChainId.Compute(ManifestParser.DiffIds(stored.Config));
        Digest? top = chain.Count == 0 ? null : chain[^1];
        if (top is { } t && !services.Snapshots.Exists(t))
        {
            using var lease = services.StoreLock.AcquireLease(StoreLock.DefaultLeaseWait);
            services.CreateUnpacker().UnpackAll(stored.Manifest, stored.Config, NullPullObserver.Instance, ct);
        }
        return new ResolvedImage(image, stored.Config, record.ConfigDigest.ToString(), top);
    }
}
