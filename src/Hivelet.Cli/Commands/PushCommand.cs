using System.CommandLine;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.Pushing;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class PushCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var image = new Argument<string>("NAME[:TAG]");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Suppress verbose output" };
        var cmd = new Command("push", "Upload an image to a registry") { image, quiet };
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            var raw = parse.GetValue(image)!;
            var target = ImageReference.Parse(raw).WithDefaultTag();
            var record = ImageLookup.FindOne(services.Images, target.ToString());
            bool q = parse.GetValue(quiet);
            if (!q)
                Console.WriteLine($"The push refers to repository [{target.Name}]");
            var observer = new PlainPushObserver(q);
            var pusher = new ImagePusher(services.Registries, services.Content)
            {
                MaxConcurrentUploads = services.Config.MaxConcurrentUploads,
            };
            var (digest, size) = await pusher.PushAsync(record, target, observer, ct).ConfigureAwait(false);
            Console.WriteLine($"{target.Tag}: digest: {digest} size: {size}");
            return 0;
        });
        return cmd;
    }

    /// <summary>One line per finished blob, as Docker prints when not on a terminal.</summary>
    private sealed class PlainPushObserver(bool quiet) : IPushObserver
    {
        private readonly Lock _lock = new();

        public void Blob(Digest digest, PushPhase phase, long current, long total)
        {
            if (quiet || phase is not (PushPhase.Pushed or PushPhase.LayerAlreadyExists))
                return;
            lock (_lock)
                Console.WriteLine($"{digest.Short}: {(phase == PushPhase.Pushed ? "Pushed" : "Layer already exists")}");
        }
    }
}
