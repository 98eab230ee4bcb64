using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class ImageInspectCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var images = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var format = new Option<string?>("--format", "-f") { Description = "Format the output using a Go template ('{{.Id}}', '{{json .Config}}')" };
        var cmd = new Command("inspect", "Display detailed information on one or more images") { images, format };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var result = new List<ImageInspect>();
            var errors = new List<string>();
            foreach (var arg in parse.GetValue(images)!)
            {
                try
                {
                    var record = ImageLookup.FindOne(services.Images, arg);
                    result.Add(Build(record, services));
                }
                catch (NotFoundException e)
                {
                    errors.Add(e.Message);
                }
            }
            var items = new System.Text.Json.Nodes.JsonArray();
            InspectOutput.Append(items, JsonSerializer.SerializeToNode(result, CliJsonContext.Default.ListImageInspect));
            InspectOutput.Write(Console.Out, items, parse.GetValue(format));
            foreach (var e in errors)
                Console.Error.WriteLine($"Error: {e}");
            return Task.FromResult(errors.Count == 0 ? 0 : 1);
        });
        return cmd;
    }

    public static ImageInspect Build(ImageRecord record, HiveletServices services)
    {
        var image = StoredImage.Load(record, services.Content);
        var sameId = services.Images.List().Where(r => r.Id == record.Id).ToList();
        var config = image.Config;
        return new ImageInspect
        {
            Id = record.Id.ToString(),
            RepoTags = sameId.Where(r => !r.IsDangling).Select(r => ImageReference.Parse(r.Name)).Where(r => r.Tag is not null)
                .Select(r => r.FamiliarString()).Distinct().ToList(),
            RepoDigests = sameId.SelectMany(r => r.RepoDigests).Select(Familiar).Distinct().ToList(),
            Created = config.Created is { } created ? Rfc3339(created) : null,
            Author = config.Author ?? "",
            Config = config.Config,
            Architecture = config.Architecture,
            Variant = string.IsNullOrEmpty(config.Variant) ? null : config.Variant,
            Os = config.Os,
            Size = image.UnpackedSize(services.LayerSizes),
            RootFS = new InspectRootFs { Layers = [.. config.RootFs.DiffIds] },
            Metadata = new InspectMetadata
            {
                LastTagTime = Rfc3339(sameId.Max(r => r.Created)),
            },
        };
    }

    /// <summary>RFC 3339 in UTC with up to 7 fractional digits, as Docker prints times.</summary>
    public static string Rfc3339(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string Familiar(string repoDigest)
    {
        int at = repoDigest.IndexOf('@');
        return ImageReference.TryParse(repoDigest, out var r) ? $"{r.FamiliarName}{repoDigest[at..]}" : repoDigest;
    }
}
