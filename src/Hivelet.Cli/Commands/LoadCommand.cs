using System.CommandLine;
using Hivelet.Errors;
using Hivelet.Images.Archives;
using Hivelet.Images.Platforms;
using Hivelet.Images.References;
using Microsoft.Extensions.Logging;

namespace Hivelet.Cli.Commands;

public static class LoadCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var input = new Option<string?>("--input", "-i") { Description = "Read from a tar archive file (plain, gzip or zstd) instead of STDIN" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Suppress the load output" };
        var platform = CommandHelpers.PlatformOption();
        var cmd = new Command("load", "Load images from a tar archive (docker save, skopeo docker-archive or oci-archive)")
        {
            input, quiet, platform,
        };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var path = parse.GetValue(input);
            string archiveName;
            Stream stream;
            if (path is null)
            {
                // Like docker: without -i, read stdin, but never wait on a person at a terminal.
                if (!Console.IsInputRedirected)
                    throw new InvalidInputException("requested load from stdin, but stdin is a terminal (use -i FILE or redirect)");
                stream = Console.OpenStandardInput(1 << 20);
                archiveName = "stdin";
            }
            else
            {
                if (!File.Exists(path))
                    throw new NotFoundException($"load {path}: no such file");
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                archiveName = path;
            }
            using (stream)
            {
                var loader = new ImageLoader(services.Content, services.Images, services.StoreLock, services.CreateUnpacker(),
                    services.Root.TmpDir, new PlatformMatcher(services.LoggerFactory.CreateLogger<PlatformMatcher>()),
                    services.LoggerFactory.CreateLogger<ImageLoader>())
                {
                    Platform = CommandHelpers.ResolvePlatform(parse.GetValue(platform)),
                };
                var loaded = loader.Load(stream, archiveName, ct);
                // -q only silences progress in Docker; the result lines are printed either way.
                _ = parse.GetValue(quiet);
                foreach (var image in loaded)
                {
                    if (image.Names.Count == 0)
                        Console.WriteLine($"Loaded image ID: {image.Id}");
                    foreach (var name in image.Names)
                        Console.WriteLine($"Loaded image: {ImageReference.Parse(name).FamiliarString()}");
                }
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
