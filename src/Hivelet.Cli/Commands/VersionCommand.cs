using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Hivelet.Cli.Commands;

public static class VersionCommand
{
    public static Command Create(GlobalOptions globals)
    {
        _ = globals;
        var cmd = new Command("version", "Show the hivelet version, commit and platform");
        cmd.SetAction(_ =>
        {
            var info = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = info.IndexOf('+');
            var version = plus >= 0 ? info[..plus] : info;
            var commit = plus >= 0 ? info[(plus + 1)..] : "unknown";
            Console.WriteLine($"hivelet {version}");
            Console.WriteLine($" Commit:     {commit}");
            Console.WriteLine($" OS/Arch:    linux/{Platforms.HostArch()}");
            Console.WriteLine($" Runtime:    {RuntimeInformation.FrameworkDescription}");
            return 0;
        });
        return cmd;
    }
}

internal static class Platforms
{
    public static string HostArch() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm or Architecture.Armv6 => "arm",
        Architecture.X86 => "386",
        var a => a.ToString().ToLowerInvariant(),
    };
}
