using System.CommandLine;
using Hivelet.Errors;
using Hivelet.Images.Archives;
using Microsoft.Extensions.Logging;

namespace Hivelet.Cli.Commands;

public static class SaveCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var output = new Option<string?>("--output", "-o") { Description = "Write to a file instead of STDOUT" };
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore, Description = "Images to save (name[:tag], name@digest or ID)" };
        var cmd = new Command("save", "Save one or more images to a tar archive (streamed to STDOUT by default)") { output, images };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var saver = new ImageSaver(services.Content, services.Images, services.StoreLock,
                services.LoggerFactory.CreateLogger<ImageSaver>());
            var names = parse.GetValue(images)!;
            var path = parse.GetValue(output);
            if (path is not null)
            {
                saver.SaveToFile(names, path, ct);
                return Task.FromResult(0);
            }
            // Docker's rule: binary data never goes to a terminal.
            if (!Console.IsOutputRedirected)
                throw new InvalidInputException("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            using var stdout = Console.OpenStandardOutput(1 << 20);
            saver.Save(names, stdout, "stdout", ct);
            stdout.Flush();
            return Task.FromResult(0);
        });
        return cmd;
    }
}
