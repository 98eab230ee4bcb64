using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests;

/// <summary>login, logout and pulls against the htpasswd registry and Docker's config.json.</summary>
[Collection(AuthRegistryCollection.Name)]
public sealed class AuthTests(AuthRegistryFixture fixture)
{
    private RegistryServer Registry => fixture.Registry;

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Anonymous_pull_from_the_htpasswd_registry_fails_as_unauthorized()
    {
        var reference = await PushAsync("auth/anonymous");
        using var cli = new HiveletCli();

        var result = await cli.RunAsync("pull", reference);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("unauthorized", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("auth/anonymous", result.Stderr, StringComparison.Ordinal);
        Assert.Single(ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout));
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Login_with_a_wrong_password_fails_and_stores_nothing()
    {
        using var cli = new HiveletCli();

        var result = await cli.RunAsync(["login", "-u", Registry.Credential!.UserName, "--password-stdin", Registry.Host],
            stdin: "not-the-password\n");

        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain("Login Succeeded", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(Registry.Host, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cli.Root, "auth.json")), "a failed login wrote auth.json");
        Assert.False(Directory.Exists(Path.Combine(cli.Home, ".docker")), "a failed login wrote under ~/.docker");
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Login_stores_a_private_credential_that_pull_uses_until_logout()
    {
        var reference = await PushAsync("auth/private");
        using var cli = new HiveletCli();
        var credential = Registry.Credential!;

        var login = await cli.RunAsync(["login", "-u", credential.UserName, "--password-stdin", Registry.Host],
            stdin: credential.Password + "\n");
        login.EnsureSuccess();
        Assert.Contains("Login Succeeded", login.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(credential.Password, login.Stdout + login.Stderr, StringComparison.Ordinal);
        var authFile = Path.Combine(cli.Root, "auth.json");
        Assert.True(File.Exists(authFile), "login wrote no auth.json under the root");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, new FileInfo(authFile).UnixFileMode);

        var pull = await cli.RunAsync("pull", reference);
        pull.EnsureSuccess();
        Assert.DoesNotContain(credential.Password, pull.Stdout + pull.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, ImageVerbTests.Lines((await cli.RunOkAsync("images")).Stdout).Count);

        var logout = await cli.RunOkAsync("logout", Registry.Host);
        Assert.Contains($"Removing login credentials for {Registry.Host}", logout.Stdout, StringComparison.Ordinal);
        await cli.RunOkAsync("rmi", reference);
        var denied = await cli.RunAsync("pull", reference);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("unauthorized", denied.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Failed_login_keeps_the_credential_stored_before()
    {
        var reference = await PushAsync("auth/kept");
        using var cli = new HiveletCli();
        var credential = Registry.Credential!;
        (await cli.RunAsync(["login", "-u", credential.UserName, "--password-stdin", Registry.Host],
            stdin: credential.Password + "\n")).EnsureSuccess();
        var stored = await File.ReadAllBytesAsync(Path.Combine(cli.Root, "auth.json"));

        var wrong = await cli.RunAsync(["login", "-u", credential.UserName, "--password-stdin", Registry.Host], stdin: "wrong\n");

        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Equal(stored, await File.ReadAllBytesAsync(Path.Combine(cli.Root, "auth.json")));
        await cli.RunOkAsync("pull", reference);
    }

    [E2EFact(Peers.Registry, Peers.Htpasswd)]
    public async Task Pull_uses_credentials_from_the_docker_config_named_by_DOCKER_CONFIG()
    {
        var reference = await PushAsync("auth/dockerconfig");
        using var cli = new HiveletCli();
        using var dockerConfig = new TempDirectory("hivelet-e2e-docker-config");
        var credential = Registry.Credential!;
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}"));
        await File.WriteAllTextAsync(dockerConfig.Combine("config.json"),
            "{\"auths\":{\"" + Registry.Host + "\":{\"auth\":\"" + auth + "\"}}}");
        cli.Environment["DOCKER_CONFIG"] = dockerConfig.Path;

        var pull = await cli.RunAsync("pull", reference);

        pull.EnsureSuccess();
        Assert.False(File.Exists(Path.Combine(cli.Root, "auth.json")), "pull copied Docker's credentials into the root");
        using var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", reference)).Stdout);
        Assert.Equal(reference, inspect.RootElement[0].GetProperty("RepoTags")[0].GetString());
    }

    private async Task<string> PushAsync(string repo)
    {
        using var client = Registry.CreateClient();
        await RegistryPusher.PushAsync(client, repo, "v1", ImageFactory.Build(VerbImages.Alpha()));
        return $"{Registry.Host}/{repo}:v1";
    }
}

/// <summary>Anonymous pulls through docker-registry's Bearer token flow with an in-test token server.</summary>
[Collection(TokenRegistryCollection.Name)]
public sealed class TokenAuthTests(TokenRegistryFixture fixture)
{
    [E2EFact(Peers.Registry)]
    public async Task Pull_through_the_token_flow_asks_for_the_pull_scope_and_reuses_the_token_for_every_blob()
    {
        var image = ImageFactory.Build(VerbImages.Alpha());
        using (var client = await PushClientAsync("token/alpha"))
            await RegistryPusher.PushAsync(client, "token/alpha", "v1", image);
        int before = fixture.Tokens.Requests.Count;
        using var cli = new HiveletCli();

        var pull = await cli.RunAsync("pull", $"{fixture.Registry.Host}/token/alpha:v1");

        pull.EnsureSuccess();
        var requests = fixture.Tokens.Requests.Skip(before).ToList();
        Assert.NotEmpty(requests);
        Assert.All(requests, r =>
        {
            Assert.Equal(TokenServer.Service, r.Service);
            Assert.False(r.HadAuthorization, "an anonymous pull sent credentials to the token server");
            Assert.Contains("repository:token/alpha:pull", r.Scopes);
            Assert.DoesNotContain(r.Scopes, s => s.Contains("push", StringComparison.Ordinal));
        });
        // Manifest, config and two layers: one token serves them all.
        Assert.Single(requests);
        using var inspect = JsonDocument.Parse((await cli.RunOkAsync("image", "inspect", $"{fixture.Registry.Host}/token/alpha:v1")).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
    }

    [E2EFact(Peers.Registry)]
    public async Task Push_through_the_token_flow_asks_for_pull_and_push_on_the_target_repository()
    {
        var image = ImageFactory.Build(VerbImages.Beta());
        using var cli = new HiveletCli();
        await VerbImages.LoadAsync(cli, image, "lab/beta:v1");
        var target = $"{fixture.Registry.Host}/token/pushed:v1";
        await cli.RunOkAsync("tag", "lab/beta:v1", target);
        int before = fixture.Tokens.Requests.Count;

        await cli.RunOkAsync("push", target);

        var scopes = fixture.Tokens.Requests.Skip(before).SelectMany(r => r.Scopes).ToList();
        Assert.Contains(scopes, s => s is "repository:token/pushed:pull,push" or "repository:token/pushed:push,pull");
        Assert.DoesNotContain(scopes, s => !s.StartsWith("repository:token/pushed:", StringComparison.Ordinal));
        using var fresh = new HiveletCli();
        await fresh.RunOkAsync("pull", target);
        using var inspect = JsonDocument.Parse((await fresh.RunOkAsync("image", "inspect", target)).Stdout);
        Assert.Equal(image.ImageId.ToString(), inspect.RootElement[0].GetProperty("Id").GetString());
    }

    [E2EFact(Peers.Registry)]
    public async Task Logged_in_pull_sends_the_credential_to_the_token_server()
    {
        var image = ImageFactory.Build(VerbImages.Alpha());
        using (var client = await PushClientAsync("token/private"))
            await RegistryPusher.PushAsync(client, "token/private", "v1", image);
        using var cli = new HiveletCli();
        int before = fixture.Tokens.Requests.Count;
        var login = await cli.RunAsync(["login", "-u", "token-user", "--password-stdin", fixture.Registry.Host], stdin: "token-secret\n");
        login.EnsureSuccess();
        Assert.Contains(fixture.Tokens.Requests.Skip(before), r => r.HadAuthorization);
        before = fixture.Tokens.Requests.Count;

        await cli.RunOkAsync("pull", $"{fixture.Registry.Host}/token/private:v1");

        var requests = fixture.Tokens.Requests.Skip(before).ToList();
        Assert.NotEmpty(requests);
        Assert.All(requests, r => Assert.True(r.HadAuthorization, "a logged-in pull asked for an anonymous token"));
    }

    /// <summary>A client holding a push token fetched straight from the token server.</summary>
    private async Task<HttpClient> PushClientAsync(string repo)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"{fixture.Tokens.Realm}?service={TokenServer.Service}&scope={Uri.EscapeDataString($"repository:{repo}:pull,push")}";
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(url)));
        var client = fixture.Registry.CreateClient(authenticate: false);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", json.RootElement.GetProperty("token").GetString());
        return client;
    }
}
