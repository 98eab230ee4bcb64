using System.CommandLine;
using Hivelet.Cli.Output;
using Hivelet.Images.Content;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class ImagesCommand
{
    public static Command Create(GlobalOptions globals, string name = "images")
    {
        var filter = new Argument<string?>("REPOSITORY[:TAG]") { Arity = ArgumentArity.ZeroOrOne };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only show image IDs" };
        var digests = new Option<bool>("--digests") { Description = "Show digests" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "Don't truncate output" };
        var format = new Option<string?>("--format") { Description = "Format output: table, json, or a Go template ('table {{.Repository}}\\t{{.ID}}')" };
        var cmd = new Command(name, "List images") { filter, quiet, digests, noTrunc, format };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var now = DateTimeOffset.UtcNow;
            var rows = new List<string[]>();
            var seenIds = new HashSet<string>();
            var wanted = parse.GetValue(filter);
            ImageReference? wantedRef = wanted is null ? null : ImageReference.Parse(wanted);
            bool full = parse.GetValue(noTrunc);
            var output = ImageFormat.Create(parse.GetValue(format));
            foreach (var record in services.Images.List().OrderByDescending(r => r.Created))
            {
                var (repo, tag) = StoredImage.Split(record);
                if (wantedRef is not null && !Matches(wantedRef, wanted!, record))
                    continue;
                var id = full ? record.Id.ToString() : record.Id.Short;
                if (parse.GetValue(quiet))
                {
                    if (seenIds.Add(id))
                        Console.WriteLine(id);
                    continue;
                }
                var image = StoredImage.Load(record, services.Content);
                var digest = record.RepoDigests.Count > 0 ? record.RepoDigests[0][(record.RepoDigests[0].IndexOf('@') + 1)..] : "<none>";
                if (output is not null)
                {
                    output.Add(new ImageFormat.Entry(id, repo, tag, digest, Units.Ago(image.Config.Created, now),
                        image.Config.Created, Units.HumanSize(image.ContentSize)));
                    continue;
                }
                var row = new List<string> { repo, tag };
                if (parse.GetValue(digests))
                    row.Add(digest);
                row.AddRange([id, Units.Ago(image.Config.Created, now), Units.HumanSize(image.ContentSize)]);
                rows.Add([.. row]);
            }
            if (output is not null)
                output.WriteTo(Console.Out);
            else if (!parse.GetValue(quiet))
            {
                string[] header = parse.GetValue(digests)
                    ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
                    : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
                Table.Write(Console.Out, header, rows);
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static bool Matches(ImageReference wanted, string raw, ImageRecord record)
    {
        var have = ImageReference.Parse(record.Name);
        if (have.Name != wanted.Name)
            return false;
        // "busybox" lists every tag; "busybox:1.36" only that one.
        bool explicitTag = raw[(raw.LastIndexOf('/') + 1)..].Contains(':', StringComparison.Ordinal);
        return !explicitTag || have.Tag == wanted.Tag;
    }
}
