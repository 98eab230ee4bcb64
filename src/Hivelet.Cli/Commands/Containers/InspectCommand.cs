using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Hivelet.Cli.Output;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Runtime.Containers;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>`docker inspect` of a container: the record plus the live State, Docker's field names.</summary>
public sealed class ContainerInspect
{
    public string Id { get; set; } = "";
    public string Created { get; set; } = "";
    public string Path { get; set; } = "";
    public List<string> Args { get; set; } = [];
    public ContainerState State { get; set; } = new();
    public string Image { get; set; } = "";
    public string ResolvConfPath { get; set; } = "";
    public string HostnamePath { get; set; } = "";
    public string HostsPath { get; set; } = "";
    public string LogPath { get; set; } = "";
    public string Name { get; set; } = "";
    public int RestartCount { get; set; }
    public string Driver { get; set; } = "";
    public string Platform { get; set; } = "linux";
    public HostConfig HostConfig { get; set; } = new();
    public List<MountPoint> Mounts { get; set; } = [];
    public RunConfig Config { get; set; } = new();
}

public static class InspectCommand
{
    /// <summary>`inspect`: containers first, then images (as Docker); `container inspect`: containers only.</summary>
    public static Command Create(GlobalOptions globals, bool containersOnly)
    {
        var names = new Argument<string[]>(containersOnly ? "CONTAINER" : "NAME|ID") { Arity = ArgumentArity.OneOrMore };
        var type = new Option<string?>("--type") { Description = "Only inspect objects of the given type (container, image)" };
        var format = new Option<string?>("--format", "-f") { Description = "Format the output using a Go template ('{{.State.Status}}', '{{json .Config}}')" };
        var cmd = new Command("inspect", containersOnly ? "Display detailed information on one or more containers" : "Return low-level information on Docker objects") { names, format };
        if (!containersOnly)
            cmd.Options.Add(type);
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var kind = containersOnly ? "container" : InspectOutput.CheckType(parse.GetValue(type));
            var containers = new List<ContainerInspect>();
            var images = new List<ImageInspect>();
            var errors = new List<string>();
            foreach (var arg in parse.GetValue(names)!)
            {
                if (kind is null or "container" && services.Containers.TryFind(arg) is { } record)
                {
                    containers.Add(Build(record, services));
                    continue;
                }
                if (kind is null or "image")
                {
                    try
                    {
                        images.Add(ImageInspectCommand.Build(ImageLookup.FindOne(services.Images, arg), services));
                        continue;
                    }
                    catch (NotFoundException)
                    {
                    }
                }
                errors.Add(kind == "container" ? $"No such container: {arg}" : kind == "image" ? $"No such image: {arg}" : $"No such object: {arg}");
            }
            // One array, containers first, then images.
            var items = new JsonArray();
            InspectOutput.Append(items, JsonSerializer.SerializeToNode(containers, ContainerCliJsonContext.Default.ListContainerInspect));
            InspectOutput.Append(items, JsonSerializer.SerializeToNode(images, CliJsonContext.Default.ListImageInspect));
            InspectOutput.Write(Console.Out, items, parse.GetValue(format));
            foreach (var e in errors)
                Console.Error.WriteLine($"Error: {e}");
            return Task.FromResult(errors.Count == 0 ? 0 : 1);
        });
        return cmd;
    }

    public static ContainerInspect Build(ContainerRecord record, HiveletServices services)
    {
        var state = services.Live.Read(record);
        var bundle = services.Containers.BundleDir(record.Id);
        return new ContainerInspect
        {
            Id = record.Id,
            Created = ContainerStatus.FormatTime(record.Created),
            Path = record.Path,
            Args = record.Args,
            State = state,
            Image = record.Image,
            ResolvConfPath = System.IO.Path.Combine(bundle, "resolv.conf"),
            HostnamePath = System.IO.Path.Combine(bundle, "hostname"),
            HostsPath = System.IO.Path.Combine(bundle, "hosts"),
            LogPath = System.IO.Path.Combine(bundle, $"{record.Id}-json.log"),
            Name = "/" + record.Name,
            RestartCount = state.RestartCount,
            Driver = record.Driver,
            Platform = record.Platform,
            HostConfig = record.HostConfig,
            Mounts = record.Mounts,
            Config = record.Config,
        };
    }
}
