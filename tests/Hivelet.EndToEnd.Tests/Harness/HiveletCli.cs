namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// Runs the published hivelet binary with its own temporary --root and HOME (so `login` and
/// state never touch the machine's), captures output, and kills it when it overruns.
/// </summary>
public sealed class HiveletCli : IDisposable
{
    private readonly TempDirectory _dir = new("hivelet-e2e-cli");

    public HiveletCli(string? binary = null)
    {
        Binary = binary ?? RepoPaths.HiveletBinary;
        if (!File.Exists(Binary))
        {
            _dir.Dispose();
            throw new FileNotFoundException(
                $"hivelet binary not found at {Binary}: run ./build.sh (or set HIVELET_BIN to a published binary)");
        }
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Home);
        Environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["HOME"] = Home,
            ["DOCKER_CONFIG"] = null,
            ["HIVELET_ROOT"] = null,
            ["XDG_RUNTIME_DIR"] = null,
        };
    }

    public string Binary { get; }

    /// <summary>The state directory passed as --root.</summary>
    public string Root => _dir.Combine("root");

    /// <summary>HOME for the child (credentials land in $HOME/.docker/config.json).</summary>
    public string Home => _dir.Combine("home");

    /// <summary>Extra environment for the child; a null value removes the variable.</summary>
    public Dictionary<string, string?> Environment { get; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);

    public Task<ProcessResult> RunAsync(params string[] args) => RunAsync(args, stdin: null);

    /// <summary>Runs `hivelet --root ROOT args...`.</summary>
    public Task<ProcessResult> RunAsync(IEnumerable<string> args, string? stdin, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ProcessRunner.RunAsync(Binary, args.Prepend(Root).Prepend("--root"), timeout ?? Timeout, Environment, stdin,
            cancellationToken: cancellationToken);

    /// <summary>Runs without adding --root (for tests of argument handling itself).</summary>
    public Task<ProcessResult> RunRawAsync(params string[] args) =>
        ProcessRunner.RunAsync(Binary, args, Timeout, Environment);

    public async Task<ProcessResult> RunOkAsync(params string[] args) => (await RunAsync(args)).EnsureSuccess();

    public void Dispose() => _dir.Dispose();
}
