using System.CommandLine;
using System.Text;
using Hivelet.Errors;
using Hivelet.Images.References;

namespace Hivelet.Cli.Commands;

public static class LoginCommand
{
    public static Command Create(GlobalOptions globals)
    {
        var server = new Argument<string?>("SERVER") { Arity = ArgumentArity.ZeroOrOne, Description = "Registry (default docker.io)" };
        var username = new Option<string?>("--username", "-u") { Description = "Username" };
        var password = new Option<string?>("--password", "-p") { Description = "Password (prefer --password-stdin)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Take the password from stdin" };
        var cmd = new Command("login", "Log in to a registry") { server, username, password, passwordStdin };
        cmd.SetServicesAction(globals, async (parse, services, ct) =>
        {
            var domain = RegistryName(parse.GetValue(server));
            var user = parse.GetValue(username);
            var pass = parse.GetValue(password);
            if (parse.GetValue(passwordStdin))
            {
                if (pass is not null)
                    throw new InvalidInputException("--password and --password-stdin are mutually exclusive");
                if (string.IsNullOrEmpty(user))
                    throw new InvalidInputException("must provide --username with --password-stdin");
                pass = (await Console.In.ReadToEndAsync(ct).ConfigureAwait(false)).TrimEnd('\r', '\n');
            }
            else if (pass is not null)
            {
                Console.Error.WriteLine("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            }
            if (string.IsNullOrEmpty(user))
            {
                Console.Write("Username: ");
                user = Console.ReadLine()?.Trim();
            }
            if (string.IsNullOrEmpty(pass))
            {
                if (Console.IsInputRedirected)
                    throw new InvalidInputException("cannot prompt for a password: stdin is not a terminal (use --password-stdin)");
                Console.Write("Password: ");
                pass = ReadHidden();
            }
            await services.Registries.LoginAsync(domain, user ?? "", pass ?? "", ct).ConfigureAwait(false);
            Console.WriteLine("Login Succeeded");
            return 0;
        });
        return cmd;
    }

    /// <summary>"docker.io" for Docker Hub spellings, else host[:port] with any scheme and path stripped.</summary>
    public static string RegistryName(string? server)
    {
        if (string.IsNullOrWhiteSpace(server))
            return ImageReference.DockerHubDomain;
        var s = server.Trim();
        int scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
            s = s[(scheme + 3)..];
        int slash = s.IndexOf('/');
        if (slash >= 0)
            s = s[..slash];
        s = s.ToLowerInvariant();
        return s is "index.docker.io" or "registry-1.docker.io" or "docker.io" ? ImageReference.DockerHubDomain : s;
    }

    private static string ReadHidden()
    {
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0)
                    sb.Length--;
                continue;
            }
            sb.Append(key.KeyChar);
        }
        Console.WriteLine();
        return sb.ToString();
    }
}
