using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Errors;

namespace Hivelet.Images.Registry.Credentials;

/// <summary>
/// A docker-credential-NAME program, spoken to with Docker's credential-helper protocol: the verb
/// as argument (get, store, erase), the server URL or a JSON credential on stdin, a JSON answer on
/// stdout. "credentials not found" from `get` means anonymous. Running the helper is the protocol
/// itself (nothing else can read a keychain); it gets a bounded time and its errors are reported
/// without the secrets.
/// </summary>
public sealed class CredentialHelper
{
    public const string ProgramPrefix = "docker-credential-";
    private const int MaxOutput = 1 << 20;

    public CredentialHelper(string name, string configuredIn)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/', StringComparison.Ordinal))
            throw new InvalidInputException($"credential helper \"{name}\" in {configuredIn}: not a helper name");
        Name = name;
        ConfiguredIn = configuredIn;
    }

    /// <summary>"pass", "secretservice", ...: the program is docker-credential-NAME.</summary>
    public string Name { get; }

    /// <summary>The config file that named the helper, for error messages.</summary>
    public string ConfiguredIn { get; }

    public string Program => ProgramPrefix + Name;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The stored credential for <paramref name="serverUrl"/>, or null when the helper has none.</summary>
    public RegistryCredential? Get(string serverUrl)
    {
        var (exit, output) = Run("get", serverUrl);
        if (exit != 0)
        {
            if (output.Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
                return null;
            throw Failed("get", serverUrl, output);
        }
        HelperCredential? answer;
        try
        {
            answer = JsonSerializer.Deserialize(output, HelperJsonContext.Default.HelperCredential);
        }
        catch (JsonException)
        {
            throw new InvalidInputException($"credential helper {Program} get {serverUrl}: its answer is not valid JSON");
        }
        if (answer is null || string.IsNullOrEmpty(answer.Secret))
            return null;
        // docker/cli: the user name "<token>" marks the secret as an identity (refresh) token.
        return answer.Username == "<token>"
            ? new RegistryCredential(null, null, answer.Secret)
            : new RegistryCredential(answer.Username, answer.Secret);
    }

    public void Store(string serverUrl, RegistryCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var body = new HelperCredential
        {
            ServerUrl = serverUrl,
            Username = credential.HasIdentityToken && !credential.HasPassword ? "<token>" : credential.Username,
            Secret = credential.HasPassword ? credential.Password : credential.IdentityToken,
        };
        var (exit, output) = Run("store", JsonSerializer.Serialize(body, HelperJsonContext.Default.HelperCredential));
        if (exit != 0)
            throw Failed("store", serverUrl, output);
    }

    /// <summary>True when the helper removed something; "not found" is false.</summary>
    public bool Erase(string serverUrl)
    {
        var (exit, output) = Run("erase", serverUrl);
        if (exit == 0)
            return true;
        if (output.Contains("not found", StringComparison.OrdinalIgnoreCase))
            return false;
        throw Failed("erase", serverUrl, output);
    }

    private HiveletException Failed(string verb, string serverUrl, string output)
    {
        var first = output.Split('\n', 2)[0].Trim();
        if (first.Length > 200)
            first = first[..200];
        return new HiveletException($"credential helper {Program} {verb} {serverUrl}: {(first.Length == 0 ? "failed" : first)}");
    }

    private (int Exit, string Output) Run(string verb, string input)
    {
        var start = new ProcessStartInfo(Program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(verb);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new HiveletException($"credential helper {Program}: did not start");
        }
        catch (Win32Exception e)
        {
            throw new HiveletException(
                $"credential helper {Program} (named in {ConfiguredIn}) cannot be run: {e.Message} (install it in PATH or remove it from the config)");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The helper exited without reading; its exit status says why.
            }
            if (!process.WaitForExit(Timeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Exited just now.
                }
                throw new HiveletException($"credential helper {Program} {verb}: no answer within {Timeout.TotalSeconds:0}s");
            }
            process.WaitForExit();
            var output = stdout.GetAwaiter().GetResult();
            if (output.Length > MaxOutput)
                throw new InvalidInputException($"credential helper {Program} {verb}: answer larger than {MaxOutput} bytes");
            // Helpers print their errors on stdout (docker-credential-helpers), some on stderr.
            var message = process.ExitCode == 0 || output.Trim().Length > 0 ? output : stderr.GetAwaiter().GetResult();
            return (process.ExitCode, message);
        }
    }
}

internal sealed class HelperCredential
{
    [JsonPropertyName("ServerURL")] public string? ServerUrl { get; set; }
    [JsonPropertyName("Username")] public string? Username { get; set; }
    [JsonPropertyName("Secret")] public string? Secret { get; set; }
}

[JsonSerializable(typeof(HelperCredential))]
internal sealed partial class HelperJsonContext : JsonSerializerContext;
