using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>
/// Docker credential helpers (credsStore, credHelpers) against the htpasswd registry, with small sh
/// helpers written by the test: get/store/erase over stdin and stdout as docker-credential-* do.
/// </summary>
[Collection(AuthRegistryCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CredentialHelperTests(AuthRegistryFixture fixture) : IDisposable
{
    private readonly TempDirectory _bin = new("hivelet-e2e-helpers");
    private readonly TempDirectory _dockerConfig = new("hivelet-e2e-docker-config");

    private RegistryServer Registry => fixture.Registry;

    public void Dispose()
    {
        _bin.Dispose();
        _dockerConfig.Dispose();
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Pull_gets_the_credential_from_the_credsStore_helper()
    {
        var reference = await PushAsync("helper/store");
        WriteHelper("hivelettest", Registry.Host);
        using var cli = Cli("{\"credsStore\":\"hivelettest\"}");

        await cli.RunOkAsync("pull", reference);

        Assert.Contains(Registry.Host, await File.ReadAllTextAsync(_bin.Combine("get.log")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cli.Root, "auth.json")));
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task A_credHelpers_entry_for_the_registry_wins_over_credsStore()
    {
        var reference = await PushAsync("helper/per-registry");
        WriteHelper("hivelettest", Registry.Host);
        using var cli = Cli("{\"credsStore\":\"not-installed\",\"credHelpers\":{\"" + Registry.Host + "\":\"hivelettest\"}}");

        await cli.RunOkAsync("pull", reference);
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Login_stores_in_the_helper_and_logout_erases_there()
    {
        WriteHelper("hivelettest", "nothing-stored-yet");
        using var cli = Cli("{\"credsStore\":\"hivelettest\"}");
        var credential = Registry.Credential!;

        (await cli.RunAsync(["login", "-u", credential.UserName, "--password-stdin", Registry.Host], stdin: credential.Password + "\n"))
            .EnsureSuccess();

        using (var stored = JsonDocument.Parse(await File.ReadAllTextAsync(_bin.Combine("stored.json"))))
        {
            Assert.Equal(Registry.Host, stored.RootElement.GetProperty("ServerURL").GetString());
            Assert.Equal(credential.UserName, stored.RootElement.GetProperty("Username").GetString());
            Assert.Equal(credential.Password, stored.RootElement.GetProperty("Secret").GetString());
        }
        Assert.False(File.Exists(Path.Combine(cli.Root, "auth.json")), "login wrote hivelet's file although a helper is configured");

        var logout = await cli.RunOkAsync("logout", Registry.Host);
        Assert.Contains($"Removing login credentials for {Registry.Host}", logout.Stdout, StringComparison.Ordinal);
        Assert.Equal(Registry.Host, (await File.ReadAllTextAsync(_bin.Combine("erased"))).Trim());
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Credentials_not_found_in_the_helper_means_anonymous()
    {
        var reference = await PushAsync("helper/anonymous");
        WriteHelper("hivelettest", "some-other-registry:5000");
        using var cli = Cli("{\"credsStore\":\"hivelettest\"}");

        var result = await cli.RunAsync("pull", reference);

        Assert.Equal(125, result.ExitCode);
        Assert.Contains("unauthorized", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("credential helper", result.Stderr, StringComparison.Ordinal);
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task A_missing_helper_and_a_helper_answering_garbage_fail_clearly()
    {
        var reference = $"{Registry.Host}/helper/errors:v1";
        using (var missing = Cli("{\"credsStore\":\"not-installed\"}"))
        {
            var result = await missing.RunAsync("pull", reference);
            Assert.Equal(125, result.ExitCode);
            Assert.Contains("docker-credential-not-installed", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("cannot be run", result.Stderr, StringComparison.Ordinal);
        }

        var garbage = _bin.Combine("docker-credential-garbage");
        await File.WriteAllTextAsync(garbage, "#!/bin/sh\necho 'this is not json'\n");
        File.SetUnixFileMode(garbage, (UnixFileMode)0b111_101_101);
        using var cli = Cli("{\"credsStore\":\"garbage\"}");
        var bad = await cli.RunAsync("pull", reference);
        Assert.Equal(125, bad.ExitCode);
        Assert.Contains("docker-credential-garbage get", bad.Stderr, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", bad.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// docker-credential-NAME answering `get` for <paramref name="knownHost"/> with the registry's user,
    /// "credentials not found" otherwise; `store` and `erase` leave what they got beside the script.
    /// </summary>
    private void WriteHelper(string name, string knownHost)
    {
        var credential = Registry.Credential!;
        var path = _bin.Combine("docker-credential-" + name);
        File.WriteAllText(path, $$"""
            #!/bin/sh
            dir=$(dirname "$0")
            case "$1" in
            get)
              read -r server
              echo "$server" >> "$dir/get.log"
              if [ "$server" = "{{knownHost}}" ]; then
                printf '{"ServerURL":"%s","Username":"{{credential.UserName}}","Secret":"{{credential.Password}}"}\n' "$server"
                exit 0
              fi
              echo "credentials not found in native keychain"
              exit 1
              ;;
            store)
              cat > "$dir/stored.json"
              ;;
            erase)
              read -r server
              echo "$server" > "$dir/erased"
              ;;
            *)
              echo "unknown verb $1"
              exit 1
              ;;
            esac

            """);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    private HiveletCli Cli(string dockerConfig)
    {
        File.WriteAllText(_dockerConfig.Combine("config.json"), dockerConfig);
        var cli = new HiveletCli();
        cli.Environment["DOCKER_CONFIG"] = _dockerConfig.Path;
        cli.Environment["PATH"] = _bin.Path + ":" + Environment.GetEnvironmentVariable("PATH");
        return cli;
    }

    private async Task<string> PushAsync(string repo)
    {
        using var client = Registry.CreateClient();
        await RegistryPusher.PushAsync(client, repo, "v1", ImageFactory.Build(VerbImages.Alpha()));
        return $"{Registry.Host}/{repo}:v1";
    }
}
