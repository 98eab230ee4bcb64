using System.CommandLine;
using Hivelet.Interop;
using Hivelet.Runtime.Spec;

namespace Hivelet.Cli.Commands.ContainerTools;

public static class ExecCommand
{
    /// <summary>Options of exec that take a value (for <see cref="CommandArguments"/>).</summary>
    public static readonly IReadOnlySet<string> ValueOptions =
        new HashSet<string> { "-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys" };

    public static Command Create(GlobalOptions globals)
    {
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Keep STDIN open even if not attached" };
        var tty = new Option<bool>("--tty", "-t") { Description = "Allocate a pseudo-TTY" };
        var detach = new Option<bool>("--detach", "-d") { Description = "Detached mode: run command in the background" };
        var env = new Option<string[]>("--env", "-e") { Description = "Set environment variables", AllowMultipleArgumentsPerToken = false };
        var user = new Option<string?>("--user", "-u") { Description = "Username or UID (format: \"<name|uid>[:<group|gid>]\")" };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory inside the container" };
        var privileged = new Option<bool>("--privileged") { Description = "Give extended privileges to the command" };
        var container = new Argument<string>("CONTAINER");
        var command = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("exec", "Execute a command in a running container")
        {
            interactive, tty, detach, env, user, workdir, privileged, container, command,
        };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var tools = new ToolServices(services);
            var record = tools.Store.Find(parse.GetValue(container)!);
            var status = tools.RequireRunning(record);
            var options = new ExecOptions
            {
                Command = [.. parse.GetValue(command)!],
                Env = [.. parse.GetValue(env) ?? []],
                User = parse.GetValue(user),
                Workdir = parse.GetValue(workdir),
                Tty = parse.GetValue(tty),
                Interactive = parse.GetValue(interactive),
                Privileged = parse.GetValue(privileged),
            };
            // Docker refuses only -it (a terminal to attach to); -t alone runs without one.
            if (options.Tty && options.Interactive && !parse.GetValue(detach) && !Sys.IsTerminal(0))
                throw new InvalidTtyException();
            var bundle = tools.Store.BundleDir(record.Id);
            var plan = ExecPlanBuilder.Write(record, tools.LoadImageConfig(record), bundle, status.Pid, options,
                $"/proc/{status.Pid}/root", tools.Cgroups.Open(record.Id), status.PidStart);
            const string exe = "/proc/self/exe";
            string[] argv = ["hivelet", "__exec", plan];
            if (parse.GetValue(detach))
            {
                Sys.SpawnDetached(exe, argv);
                return Task.FromResult(0);
            }
            // No managed code runs in the command: this process becomes `__exec`, which joins the
            // container and execs the command, so its exit code is ours.
            Console.Out.Flush();
            Console.Error.Flush();
            if (!options.Interactive && !options.Tty)
                Sys.RedirectStdinToDevNull();
            // This process is replaced and never disposes the services: end its "command running"
            // marker now, or the next command would take it for a killed one and repair every store.
            services.EndCommand();
            try
            {
                Sys.Exec(exe, argv);
            }
            finally
            {
                File.Delete(plan);
            }
            return Task.FromResult(125);
        });
        return cmd;
    }
}

/// <summary>Docker's refusal of -it when stdin is not a terminal (its CLI exits 1).</summary>
internal sealed class InvalidTtyException() : Errors.HiveletException("the input device is not a TTY")
{
    public override int ExitCode => 1;
}
