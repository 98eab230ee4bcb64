using System.CommandLine;
using Hivelet.Errors;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Lifecycle;

namespace Hivelet.Cli.Commands.Containers;

/// <summary>stop, restart, kill, rm and wait: one or more containers, Docker's output and exit status.</summary>
public static class ContainerVerbs
{
    /// <summary>Runs <paramref name="action"/> for each argument, printing it on success as Docker does; 1 if any failed.</summary>
    internal static async Task<int> ForEachAsync(IEnumerable<string> args, HiveletServices services, Func<ContainerRecord, Task> action,
        CancellationToken ct, bool print = true)
    {
        int failures = 0;
        foreach (var arg in args)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await action(services.Containers.Find(arg)).ConfigureAwait(false);
                if (print)
                    Console.WriteLine(arg);
            }
            catch (HiveletException e)
            {
                await Console.Error.WriteLineAsync($"Error response from daemon: {HiveletException.Describe(e)}").ConfigureAwait(false);
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static Argument<string[]> Containers() => new("CONTAINER") { Arity = ArgumentArity.OneOrMore };

    private static Option<int?> Time() => new("--time", "-t") { Description = "Seconds to wait before killing the container" };

    public static Command Stop(GlobalOptions globals)
    {
        var containers = Containers();
        var time = Time();
        var signal = new Option<string?>("--signal", "-s") { Description = "Signal to send to the container" };
        var cmd = new Command("stop", "Stop one or more running containers") { containers, time, signal };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var runtime = services.CreateRuntime();
            var sig = parse.GetValue(signal);
            return ForEachAsync(parse.GetValue(containers)!, services, record =>
            {
                if (sig is not null)
                    record.Config.StopSignal = sig;
                return runtime.StopAsync(record, parse.GetValue(time), ct);
            }, ct);
        });
        return cmd;
    }

    public static Command Restart(GlobalOptions globals)
    {
        var containers = Containers();
        var time = Time();
        var cmd = new Command("restart", "Restart one or more containers") { containers, time };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var runtime = services.CreateRuntime();
            return ForEachAsync(parse.GetValue(containers)!, services, record => runtime.RestartAsync(record, parse.GetValue(time), ct), ct);
        });
        return cmd;
    }

    public static Command Kill(GlobalOptions globals)
    {
        var containers = Containers();
        var signal = new Option<string>("--signal", "-s") { Description = "Signal to send to the container", DefaultValueFactory = _ => "KILL" };
        var cmd = new Command("kill", "Kill one or more running containers") { containers, signal };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var runtime = services.CreateRuntime();
            int sig = Signals.Parse(parse.GetValue(signal)!);
            return ForEachAsync(parse.GetValue(containers)!, services, record => runtime.KillAsync(record, sig, ct), ct);
        });
        return cmd;
    }

    public static Command Remove(GlobalOptions globals, string name = "rm")
    {
        var containers = Containers();
        var force = new Option<bool>("--force", "-f") { Description = "Force the removal of a running container (uses SIGKILL)" };
        var volumes = new Option<bool>("--volumes", "-v") { Description = "Remove anonymous volumes associated with the container" };
        var cmd = new Command(name, "Remove one or more containers") { containers, force, volumes };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var runtime = services.CreateRuntime();
            bool f = parse.GetValue(force);
            return ForEachAsync(parse.GetValue(containers)!, services,
                record => runtime.RemoveAsync(record, f, parse.GetValue(volumes), ct), ct);
        });
        return cmd;
    }

    public static Command Wait(GlobalOptions globals)
    {
        var containers = Containers();
        var cmd = new Command("wait", "Block until one or more containers stop, then print their exit codes") { containers };
        cmd.SetServicesAction(globals, (parse, services, ct) =>
        {
            var runtime = services.CreateRuntime();
            return ForEachAsync(parse.GetValue(containers)!, services, async record =>
            {
                int code = await runtime.WaitAsync(record, ct).ConfigureAwait(false);
                Console.WriteLine(code.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }, ct, print: false);
        });
        return cmd;
    }
}
