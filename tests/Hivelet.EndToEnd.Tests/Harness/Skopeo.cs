using System.Net;
using System.Text;

namespace Hivelet.EndToEnd.Tests.Harness;

/// <summary>
/// skopeo as the reference client: pushes OCI layouts into the test registry and reads or
/// converts archives. Runs without a trust policy and without TLS verification (loopback).
/// </summary>
public static class Skopeo
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>`skopeo copy --all --preserve-digests SOURCE DEST`, e.g. oci:DIR:REF → docker://HOST/REPO:TAG.</summary>
    public static async Task<ProcessResult> CopyAsync(string source, string destination, params string[] extraArgs)
    {
        var args = new List<string> { "--insecure-policy", "copy", "--all", "--preserve-digests" };
        args.AddRange(extraArgs);
        args.Add(source);
        args.Add(destination);
        return (await RunAsync(args)).EnsureSuccess();
    }

    /// <summary>Pushes <paramref name="layoutDir"/>:<paramref name="refName"/> to REGISTRY/<paramref name="repoAndTag"/>.</summary>
    public static async Task PushLayoutAsync(string layoutDir, string refName, RegistryServer registry, string repoAndTag)
    {
        using var auth = new TempDirectory("hivelet-e2e-skopeo");
        var extra = new List<string> { "--dest-tls-verify=false" };
        if (registry.Credential is not null)
        {
            extra.Add("--dest-authfile");
            extra.Add(WriteAuthFile(auth, registry.Host, registry.Credential));
        }
        await CopyAsync($"oci:{layoutDir}:{refName}", $"docker://{registry.Host}/{repoAndTag}", [.. extra]);
    }

    /// <summary>`skopeo inspect --raw`: the manifest or index bytes as text.</summary>
    public static async Task<string> InspectRawAsync(string imageRef) =>
        (await RunAsync(["--insecure-policy", "inspect", "--raw", "--tls-verify=false", imageRef])).EnsureSuccess().Stdout;

    /// <summary>`skopeo inspect --config`: the image config as text (works on docker-archive: and oci-archive:).</summary>
    public static async Task<string> InspectConfigAsync(string imageRef) =>
        (await RunAsync(["--insecure-policy", "inspect", "--config", "--raw", "--tls-verify=false", imageRef])).EnsureSuccess().Stdout;

    public static Task<ProcessResult> RunAsync(IEnumerable<string> args) =>
        ProcessRunner.RunAsync(Peers.Require(Peers.Skopeo), args, Timeout,
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["REGISTRY_AUTH_FILE"] = null });

    private static string WriteAuthFile(TempDirectory dir, string host, NetworkCredential credential)
    {
        // An auth file, not --dest-creds, so the password never appears in a process listing.
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}"));
        var path = dir.Combine("auth.json");
        File.WriteAllText(path, "{\"auths\":{\"" + host + "\":{\"auth\":\"" + token + "\"}}}");
        return path;
    }
}
