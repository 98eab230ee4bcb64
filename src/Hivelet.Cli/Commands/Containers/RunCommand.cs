using System.CommandLine;
using Microsoft.Extensions.Logging;
using Hivelet.Errors;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Lifecycle;
using Hivelet.Runtime.Spec;

namespace Hivelet.Cli.Commands.Containers;

public static class RunCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var flags = new RunFlags();
        var detach = new Option<bool>("--detach", "-d") { Description = "Run container in background and print container ID" };
        var cmd = new Command("run", "Create and run a new container from an image") { detach };
        flags.AddTo(cmd);
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            // Before anything is read: a run template records what the run's inputs were then.
            var signatures = RunTemplates.Signatures(TemplateDependencies(services));
            bool d = parse.GetValue(detach);
            var options = flags.Collect(parse, d);
            // Before anything is created, as Docker's CLI checks: -t alone runs without a terminal.
            StartCommand.CheckTty(attachStdin: options.Interactive && !d, options.Tty);
            var image = await ContainerImages.ResolveAsync(services, options.Image, options.Platform, parse.GetValue(flags.Pull)!, ct)
                .ConfigureAwait(false);
            var runtime = services.CreateRuntime();
            var record = runtime.Create(options, image);
            var pull = parse.GetValue(flags.Pull);
            return await StartCommand.StartAndAttachAsync(services, runtime, record, attach: !d, stdin: options.Interactive,
                tty: options.Tty, printId: d, ct, started => WriteTemplate(services, runtime, options, pull, signatures, started)).ConfigureAwait(false);
        });
        return cmd;
    }

    /// <summary>
    /// Leaves a run template for this command line (RunTemplates): the next identical `run` is done by
    /// native/fastrun.c without starting the .NET runtime. A template is a cache: failing to write one
    /// only costs the next run its speed.
    /// </summary>
    private static void WriteTemplate(HiveletServices services, ContainerRuntime runtime, RunOptions options, string? pull,
        IReadOnlyDictionary<string, string> signatures, StartedContainer started) =>
        RunTemplates.TryWrite(
            new RunTemplateSource(started, runtime.Store, runtime.Snapshots, HiveletServices.Exe, Environment.GetCommandLineArgs()[1..],
                StoreDependencies(services), Environment.GetEnvironmentVariable, NameGiven: !string.IsNullOrEmpty(options.Name),
                signatures),
            options, pull, services.LoggerFactory.CreateLogger<ContainerRuntime>());

    /// <summary>The store's files a run template depends on: tags, committed layers, the configuration.</summary>
    private static string[] StoreDependencies(HiveletServices services) =>
        [services.Root.ImagesDir, services.Root.SnapshotsDir, services.ConfigPath];

    private static IEnumerable<string> TemplateDependencies(HiveletServices services) =>
        RunTemplates.Dependencies(StoreDependencies(services), HiveletServices.Exe);
}

public static class CreateCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var flags = new RunFlags();
        var cmd = new Command("create", "Create a new container");
        flags.AddTo(cmd);
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            var options = flags.Collect(parse, detach: true);
            var image = await ContainerImages.ResolveAsync(services, options.Image, options.Platform, parse.GetValue(flags.Pull)!, ct)
                .ConfigureAwait(false);
            var record = services.CreateRuntime().Create(options, image);
            Console.WriteLine(record.Id);
            return 0;
        });
        return cmd;
    }
}

public static class StartCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var attach = new Option<bool>("--attach", "-a") { Description = "Attach STDOUT/STDERR and forward signals" };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Attach container's STDIN" };
        var cmd = new Command("start", "Start one or more stopped containers") { containers, attach, interactive };
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            var runtime = services.CreateRuntime();
            var names = parse.GetValue(containers)!;
            bool a = parse.GetValue(attach) || parse.GetValue(interactive);
            if (a && names.Length > 1)
                throw new InvalidInputException("you cannot start and attach multiple containers at once");
            if (a)
            {
                var record = services.Containers.Find(names[0]);
                CheckTty(attachStdin: parse.GetValue(interactive), record.Config.Tty);
                return await StartAndAttachAsync(services, runtime, record, attach: true, stdin: parse.GetValue(interactive),
                    tty: record.Config.Tty, printId: false, ct).ConfigureAwait(false);
            }
            return await ContainerVerbs.ForEachAsync(names, services, async record =>
            {
                using var started = await runtime.StartAsync(record, attach: false, ct).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
        });
        return cmd;
    }

    /// <summary>
    /// Docker's refusal to attach a terminal container's stdin (-it) to an input that is not a terminal:
    /// raw mode and window size need one.
    /// </summary>
    internal static void CheckTty(bool attachStdin, bool tty)
    {
        if (attachStdin && tty && !Hivelet.Interop.Sys.IsTerminal(0))
            throw new ContainerTools.InvalidTtyException();
    }

    /// <summary>
    /// Starts a container and, attached, relays its stdio until it exits: the exit code is the container's.
    /// A failed start exits 125, 126 or 127 with the monitor's message, as Docker does.
    /// </summary>
    internal static async Task<int> StartAndAttachAsync(HiveletServices services, ContainerRuntime runtime, ContainerRecord record,
        bool attach, bool stdin, bool tty, bool printId, CancellationToken ct, Action<StartedContainer>? onStarted = null)
    {
        StartedContainer? started;
        try
        {
            started = await runtime.StartAsync(record, attach, ct).ConfigureAwait(false);
        }
        catch (ContainerStartException)
        {
            // The monitor does not autoremove after a failed start; --rm still means nothing remains.
            if (record.HostConfig.AutoRemove)
                await RemoveQuietlyAsync(runtime, record).ConfigureAwait(false);
            throw;
        }
        if (started is not null)
            onStarted?.Invoke(started);
        if (printId)
            Console.WriteLine(record.Id);
        if (started is null || !attach)
        {
            started?.Dispose();
            return 0;
        }
        using (started)
        {
            var session = new AttachSession(started, services.LoggerFactory.CreateLogger<AttachSession>())
            {
                Stdin = stdin ? Console.OpenStandardInput() : null,
                Tty = tty,
            };
            var exit = await session.RunAsync(ct).ConfigureAwait(false);
            int code = exit?.Code ?? (runtime.Live.ReadStatus(record.Id)?.ExitCode ?? ExitCodes.HiveletError);
            if (!record.HostConfig.AutoRemove)
                return code;
            // After EXIT the monitor waits for this CLI to remove the container (no second hivelet start);
            // without EXIT it is gone or removing the container itself.
            if (exit is not null)
                await runtime.RemoveAfterExitAsync(started, CancellationToken.None).ConfigureAwait(false);
            else
                await RemoveQuietlyAsync(runtime, record).ConfigureAwait(false);
            return code;
        }
    }

    /// <summary>--rm when the monitor did not report the exit (or never started): whatever is left goes.</summary>
    private static async Task RemoveQuietlyAsync(ContainerRuntime runtime, ContainerRecord record)
    {
        if (runtime.Store.TryRead(record.Id) is null)
            return;
        try
        {
            await runtime.RemoveAsync(record, force: true, removeVolumes: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            // The monitor's `rm -f` won the race.
        }
    }
}
