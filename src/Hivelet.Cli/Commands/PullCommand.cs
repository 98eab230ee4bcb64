using System.CommandLine;
using Hivelet.Cli.Output;
using Hivelet.Images.Pulling;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class PullCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var image = new Argument<string>("IMAGE") { Description = "Image reference, e.g. busybox or 127.0.0.1:5000/lab/app:1" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the image digest" };
        var platform = CommandHelpers.PlatformOption();
        var cmd = new Command("pull", "Download an image from a registry") { image, quiet, platform };
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            var reference = ImageReference.Parse(parse.GetValue(image)!);
            var wanted = CommandHelpers.ResolvePlatform(parse.GetValue(platform));
            bool q = parse.GetValue(quiet);
            var name = reference.Digest is null ? reference.WithDefaultTag().ToString() : reference.ToString();
            var before = services.Images.Get(name);
            using var renderer = q ? null : new PullProgressRenderer(Console.Out, CommandHelpers.StdoutIsTerminal);
            var record = await services.CreatePuller()
                .PullAsync(reference, wanted, (IPullObserver?)renderer ?? NullPullObserver.Instance, ct)
                .ConfigureAwait(false);
            renderer?.Dispose();
            if (q)
            {
                Console.WriteLine(record.Target.Digest);
            }
            else
            {
                Console.WriteLine($"Digest: {record.Target.Digest}");
                Console.WriteLine(before is not null && before.Target.Digest == record.Target.Digest
                    ? $"Status: Image is up to date for {reference.WithDefaultTag().FamiliarString()}"
                    : $"Status: Downloaded newer image for {reference.WithDefaultTag().FamiliarString()}");
                Console.WriteLine(reference.WithDefaultTag().ToString());
            }
            return 0;
        });
        return cmd;
    }
}
