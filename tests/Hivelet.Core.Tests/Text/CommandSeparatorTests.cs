using Hivelet.Text;

namespace Hivelet.Core.Tests.Text;

public sealed class CommandSeparatorTests
{
    private static readonly HashSet<string> Globals = ["--root", "--config", "--log-level"];
    private static readonly HashSet<string> RunBooleans = ["-t", "-i", "-d", "--rm", "--tty", "--interactive", "--detach", "--init"];
    private static readonly HashSet<string> ExecValues = ["-e", "--env", "-u", "--user", "-w", "--workdir"];

    private static bool RunTakesValue(string a)
    {
        if (a.StartsWith("--", StringComparison.Ordinal))
            return !a.Contains('=', StringComparison.Ordinal) && !RunBooleans.Contains(a);
        var letters = a[1..];
        for (int k = 0; k < letters.Length; k++)
        {
            if (!RunBooleans.Contains("-" + letters[k]))
                return k == letters.Length - 1;
        }
        return false;
    }

    private static readonly Dictionary<string, string> Hostname = new() { ["-h"] = "--hostname" };

    private static readonly CommandSeparator.Verb[] Verbs =
    [
        new(["run"], RunTakesValue, Hostname),
        new(["container", "run"], RunTakesValue, Hostname),
        new(["exec"], CommandSeparator.ValueOptions(ExecValues)),
        new(["container", "exec"], CommandSeparator.ValueOptions(ExecValues)),
    ];

    private static string Separate(string line) =>
        string.Join(' ', CommandSeparator.Separate(line.Split(' '), Verbs, Globals));

    [Theory]
    [InlineData("run busybox ls -l", "run busybox -- ls -l")]
    [InlineData("run -it --rm -e A=1 busybox sh -c x", "run -it --rm -e A=1 busybox -- sh -c x")]
    [InlineData("run -ite A=1 busybox sh", "run -ite A=1 busybox -- sh")]
    [InlineData("run --name=web -h box busybox", "run --name=web --hostname box busybox")]
    [InlineData("--root /tmp/r container run busybox -- x", "--root /tmp/r container run busybox -- -- x")]
    [InlineData("run -- busybox ls", "run -- busybox ls")]
    [InlineData("exec -it box sh -c echo", "exec -it box -- sh -c echo")]
    [InlineData("exec -ie A=1 box env", "exec -ie A=1 box -- env")]
    [InlineData("exec --user=1000 -w /tmp box -- ls", "exec --user=1000 -w /tmp box -- -- ls")]
    [InlineData("container exec box ls -la", "container exec box -- ls -la")]
    [InlineData("ps -a", "ps -a")]
    [InlineData("--log-level debug images -q", "--log-level debug images -q")]
    public void TheCommandAfterTheFirstPositionalArgumentIsSeparated(string line, string expected) =>
        Assert.Equal(expected, Separate(line));
}
