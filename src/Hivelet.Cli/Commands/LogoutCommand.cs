using System.CommandLine;

namespace Hivelet.Cli.Commands;

public static class LogoutCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var server = new Argument<string?>("SERVER") { Arity = ArgumentArity.ZeroOrOne, Description = "Registry (default docker.io)" };
        var cmd = new Command("logout", "Log out from a registry") { server };
        cmd.SetServicesAction(globals, (parse, services, _) =>
        {
            var domain = LoginCommand.RegistryName(parse.GetValue(server));
            Console.WriteLine(services.Registries.Logout(domain)
                ? $"Removing login credentials for {domain}"
                : $"Not logged in to {domain}");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
