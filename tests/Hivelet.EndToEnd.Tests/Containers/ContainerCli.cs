using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.Fixtures;

namespace Hivelet.EndToEnd.Tests.Containers;

/// <summary>
/// A CLI with the fixture image loaded; on dispose every container it created is removed with
/// `rm -f` (cgroups, snapshots, bundles) before the temp root goes, even when the test failed.
/// </summary>
public sealed class ContainerCli : IDisposable
{
    private static readonly string[] ShellApplets =
    [
        "awk", "df", "grep", "kill", "ls", "mkdir", "pidof", "ps", "rm", "sed", "seq", "sleep", "stat", "stty",
        "tail", "test", "touch", "tr", "ulimit", "wc", "[",
    ];

    private bool _busyboxLoaded;

    public ContainerCli()
    {
        Cli = new HiveletCli();
        var archive = Path.Combine(RepoPaths.FixturesDir, "hivelet-fixture.tar");
        if (!File.Exists(archive))
            throw new FileNotFoundException($"{archive} is missing: run ./build.sh fixtures");
        Cli.RunOkAsync("load", "-i", archive).GetAwaiter().GetResult();
    }

    public HiveletCli Cli { get; }

    public const string Image = "hivelet/fixture:latest";

    /// <summary>A shell image built from the host's static busybox (see <see cref="LoadBusybox"/>).</summary>
    public const string Busybox = "hivelet/e2e-busybox:latest";

    public string ContainersDir => Path.Combine(Cli.Root, "containers");

    public static bool Privileged => Environment.IsPrivilegedProcess;

    /// <summary>The host's architecture as an OCI platform name.</summary>
    public static string Platform => RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        _ => "amd64",
    };

    /// <summary>
    /// Builds <see cref="Busybox"/> from the host's static busybox (Debian's busybox-static) with the
    /// layers, User and WorkingDir of <paramref name="on"/> on top, and loads it (once per CLI for the plain image).
    /// </summary>
    public string LoadBusybox(string tag = Busybox, ImageDefinition? on = null)
    {
        if (tag == Busybox && _busyboxLoaded)
            return tag;
        const string host = "/bin/busybox";
        if (!File.Exists(host))
            throw new FileNotFoundException($"{host} is missing: apt-get install busybox-static");
        var image = FixtureSets.Busybox(File.ReadAllBytes(host), Platform, Platform == "arm64" ? "v8" : null);
        var applets = new LayerDefinition { CreatedBy = "more busybox applets" }.Dir("bin/");
        foreach (var applet in ShellApplets.Except(FixtureSets.BusyboxApplets))
            applets.Symlink($"bin/{applet}", "busybox");
        image.Layer(applets.Dir("etc/").File("etc/hostname", "image\n"));
        if (on is not null)
        {
            foreach (var layer in on.Layers)
                image.Layer(layer);
            image.User = on.User;
            image.WorkingDir = on.WorkingDir;
        }
        var archive = Path.Combine(Cli.Root, "..", $"busybox-{Guid.NewGuid():N}.tar");
        DockerArchive.Create(ImageFactory.Build(image), [tag], DockerArchiveStyle.OciCompatible).WriteTar(archive);
        try
        {
            Cli.RunOkAsync("load", "-i", archive).GetAwaiter().GetResult();
        }
        finally
        {
            File.Delete(archive);
        }
        if (tag == Busybox)
            _busyboxLoaded = true;
        return tag;
    }

    /// <summary>`inspect ID` parsed: the one object of Docker's array.</summary>
    public async Task<JsonElement> InspectAsync(string container)
    {
        var result = await Cli.RunOkAsync("inspect", container);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        Assert.Equal(1, doc.RootElement.GetArrayLength());
        return doc.RootElement[0].Clone();
    }

    /// <summary>Polls <paramref name="probe"/> every 50 ms until it returns non-null; fails after <paramref name="timeout"/>.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
                return value;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"no {what} within {timeout.TotalSeconds:F0}s");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls `inspect` until <paramref name="condition"/> holds for it; returns that inspect.</summary>
    public async Task<JsonElement> InspectUntilAsync(string container, Func<JsonElement, bool> condition, string what,
        TimeSpan? timeout = null)
    {
        JsonElement last = default;
        try
        {
            var box = await UntilAsync<object>(async () =>
            {
                last = await InspectAsync(container);
                return condition(last) ? last : null;
            }, what, timeout ?? TimeSpan.FromSeconds(30));
            return (JsonElement)box;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last inspect: {last}", e);
        }
    }

    public void Dispose()
    {
        try
        {
            var ids = Cli.RunAsync("ps", "-aq", "--no-trunc").GetAwaiter().GetResult().Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length > 0)
                Cli.RunAsync(["rm", "-f", .. ids]).GetAwaiter().GetResult();
        }
        finally
        {
            Cli.Dispose();
        }
    }
}
