using System.CommandLine;
using Hivelet.Errors;
using Hivelet.Images.Oci;
using Hivelet.Interop;
using Hivelet.Images.Snapshots;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Copy;
using Microsoft.Extensions.Logging;

namespace Hivelet.Cli.Commands.ContainerTools;

/// <summary>`hivelet cp [-a] [-L] SRC DEST`: copies between a container's filesystem and the host (or a tar on stdio).</summary>
public static class CpCommand
{
    private const int ENOENT = 2;

    public static Command Create(GlobalOptions globals)
    {
        var archive = new Option<bool>("--archive", "-a") { Description = "Archive mode (copy all uid/gid information)" };
        var followLink = new Option<bool>("--follow-link", "-L") { Description = "Always follow symbol link in SRC_PATH" };
        var source = new Argument<string>("SRC_PATH");
        var destination = new Argument<string>("DEST_PATH");
        var cmd = new Command("cp", "Copy files/folders between a container and the local filesystem") { archive, followLink, source, destination };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var src = CopyEndpoint.Parse(parse.GetValue(source)!);
            var dest = CopyEndpoint.Parse(parse.GetValue(destination)!);
            if (src.Container is null == dest.Container is null)
                throw new InvalidInputException(src.Container is null
                    ? "copying between local paths is not supported: one of SRC_PATH and DEST_PATH must be CONTAINER:PATH"
                    : "copying between containers is not supported: one of SRC_PATH and DEST_PATH must be a local path");
            if (src.Path.Length == 0 || dest.Path.Length == 0)
                throw new InvalidInputException("cp: the path must not be empty");
            var tools = new ToolServices(services);
            var endpoint = src.Container is not null ? src : dest;
            var record = tools.Store.TryFind(endpoint.Container!)
                ?? throw new NotFoundException($"No such container:path: {endpoint.Container}:{endpoint.Path}");
            var copier = new ContainerCopier(services.LoggerFactory.CreateLogger<ContainerCopier>());
            bool a = parse.GetValue(archive), l = parse.GetValue(followLink);
            using var root = OpenRoot(services, tools, record);
            if (src.Container is not null)
            {
                try
                {
                    if (dest.IsStream)
                    {
                        using var stdout = new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
                        copier.WriteArchive(root.Path, src.Path, stdout, l);
                        stdout.Flush();
                    }
                    else
                    {
                        copier.CopyOut(root.Path, src.Path, dest.Path, a, l);
                    }
                }
                catch (ErrnoException e) when (e.Errno == ENOENT && e.Call == "stat" && e.Subject is { } p
                    && ("/" + src.Path.TrimStart('/')).StartsWith(p, StringComparison.Ordinal))
                {
                    // A missing directory on the way to SRC: Docker names the whole path.
                    throw new NotFoundException($"Could not find the file {src.Path} in container {src.Container}");
                }
            }
            else if (src.IsStream)
            {
                using var stdin = Console.OpenStandardInput();
                copier.ExtractArchive(root.Path, stdin, dest.Path);
            }
            else
            {
                copier.CopyIn(root.Path, src.Path, dest.Path, a, l);
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>The container's root: /proc/PID/root while it runs, else its snapshot mounted for the copy.</summary>
    private static ContainerRoot OpenRoot(HiveletServices services, ToolServices tools, ContainerRecord record)
    {
        if (tools.Live.ReadStatus(record.Id) is { IsExited: false, Pid: > 0 } status)
            return new ContainerRoot($"/proc/{status.Pid}/root", null);
        Digest? top = null;
        if (record.TopChainId is { Length: > 0 } chain)
        {
            if (!Digest.TryParse(chain, out var digest, out var error))
                throw new HiveletException($"cp: container {record.Name}: top layer {chain}: {error}");
            top = digest;
        }
        var snapshot = services.Snapshots.PrepareContainer(record.Id, top);
        return new ContainerRoot(snapshot.Path, snapshot);
    }

    private sealed class ContainerRoot(string path, IActiveSnapshot? snapshot) : IDisposable
    {
        public string Path { get; } = path;

        public void Dispose() => snapshot?.Dispose();
    }
}
