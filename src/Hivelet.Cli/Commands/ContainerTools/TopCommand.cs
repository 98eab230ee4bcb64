using System.CommandLine;
using Hivelet.Cli.Output;
using Hivelet.Runtime.Stats;

namespace Hivelet.Cli.Commands.ContainerTools;

public static class TopCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var container = new Argument<string>("CONTAINER");
        var psOptions = new Argument<string[]>("ps OPTIONS") { Arity = ArgumentArity.ZeroOrMore, Description = "Accepted and ignored: the columns are always those of ps -ef" };
        var cmd = new Command("top", "Display the running processes of a container") { container, psOptions };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var tools = new ToolServices(services);
            var record = tools.Store.Find(parse.GetValue(container)!);
            var status = tools.RequireRunning(record);
            var cgroup = tools.Cgroups.Open(record.Id);
            IReadOnlyList<int> pids = cgroup?.ReadPids() ?? [status.Pid];
            var rows = new ProcessTable().Read(pids, DateTimeOffset.Now);
            Table.Write(Console.Out, ProcessTable.Header, rows.Select(r => new[]
            {
                r.Uid, r.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.Ppid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                r.Cpu.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Stime, r.Tty, r.Time, r.Cmd,
            }).ToList());
            return Task.FromResult(0);
        });
        return cmd;
    }
}
