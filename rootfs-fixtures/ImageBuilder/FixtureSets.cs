using Hivelet.Images.Oci;

namespace Hivelet.Fixtures;

/// <summary>The named fixture sets that build.sh writes into artifacts/fixtures/.</summary>
public static class FixtureSets
{
    public const string FixtureTag = "hivelet/fixture:latest";
    public const string Passwd =
        "root:x:0:0:root:/root:/bin/fixture\nhivelet:x:1000:1000:hivelet:/home/hivelet:/bin/fixture\n" +
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/fixture\n";
    public const string Group = "root:x:0:\nhivelet:x:1000:\nnogroup:x:65534:\n";

    private const int Mode0755 = 0b111_101_101;
    private const int Mode1777 = 0b1_111_111_111;

    public static readonly string[] BusyboxApplets =
    [
        "sh", "ls", "cat", "echo", "true", "false", "sleep", "id", "hostname", "env", "mkdir", "rm",
        "ps", "mount", "uname", "wc", "grep", "head", "touch", "stat",
    ];

    public static IReadOnlyList<string> Names { get; } = ["fixture", "busybox-multi", "busybox", "layered", "big"];

    /// <summary>Builds set <paramref name="name"/> into <paramref name="outDir"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Build(string name, string outDir, FixtureInputs inputs) => name switch
    {
        "fixture" => WriteFixture(outDir, inputs),
        "busybox-multi" => WriteBusyboxMulti(outDir, inputs),
        "busybox" => WriteBusyboxSingle(outDir, inputs),
        "layered" => WriteLayered(outDir),
        "big" => WriteBig(outDir),
        _ => throw new ArgumentException($"unknown fixture set \"{name}\" (known: {string.Join(", ", Names)})"),
    };

    /// <summary>hivelet/fixture: the static fixture program as entrypoint, with passwd and group.</summary>
    public static ImageDefinition Fixture(byte[] program, string architecture = "amd64", string? variant = null)
    {
        var layer = new LayerDefinition { CreatedBy = "fixture program and accounts" }
            .Dir("bin/").File("bin/fixture", program, mode: Mode0755)
            .Dir("etc/").File("etc/passwd", Passwd).File("etc/group", Group)
            .File("etc/hostname", "fixture\n")
            .Dir("root/", mode: 0b111_000_000)
            .Dir("home/").Dir("home/hivelet/", uid: 1000, gid: 1000)
            .File("home/hivelet/hello.txt", "hello from the fixture image\n", uid: 1000, gid: 1000)
            .Dir("tmp/", mode: Mode1777);
        return new ImageDefinition
        {
            Architecture = architecture,
            Variant = variant,
            Entrypoint = ["/bin/fixture"],
            WorkingDir = "/",
            Env = ["PATH=/bin", "FIXTURE=1"],
            Labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["org.opencontainers.image.title"] = "hivelet fixture",
                ["org.opencontainers.image.source"] = "rootfs-fixtures/src/fixture.c",
            },
        }.Layer(layer);
    }

    /// <summary>A busybox image for one platform: the binary, its applet links, accounts.</summary>
    public static ImageDefinition Busybox(byte[] busybox, string architecture, string? variant,
        ManifestFormat format = ManifestFormat.Oci)
    {
        var layer = new LayerDefinition().Dir("bin/").File("bin/busybox", busybox, mode: Mode0755);
        foreach (var applet in BusyboxApplets)
            layer.Symlink($"bin/{applet}", "busybox");
        layer.Dir("etc/").File("etc/passwd", Passwd.Replace("/bin/fixture", "/bin/sh", StringComparison.Ordinal))
            .File("etc/group", Group).Dir("tmp/", mode: Mode1777).Dir("root/", mode: 0b111_000_000);
        return new ImageDefinition
        {
            Architecture = architecture,
            Variant = variant,
            Format = format,
            Cmd = ["sh"],
            Env = ["PATH=/bin"],
        }.Layer(layer);
    }

    /// <summary>Three layers exercising unpack semantics (gzip, zstd, plain tar).</summary>
    public static ImageDefinition Layered()
    {
        var xattr = new Dictionary<string, string>(StringComparer.Ordinal) { ["user.hivelet"] = "fixture" };
        var l0 = new LayerDefinition(LayerCompression.Gzip) { CreatedBy = "base" }
            .Dir("etc/").File("etc/os-release", "ID=hivelet-layered\n").File("etc/to-delete", "gone in layer 1\n")
            .Symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
            .Dir("usr/").Dir("usr/bin/").File("usr/bin/tool", "#!/bin/sh\necho tool\n", mode: Mode0755)
            .HardLink("usr/bin/tool-link", "usr/bin/tool", mode: Mode0755)
            .File("usr/bin/su-like", "setuid fixture\n", mode: 0b100_111_101_101)
            .Dir("usr/share/").Dir("usr/share/doc/").File("usr/share/doc/a.txt", "a from layer 0\n", xattrs: xattr)
            .Dir("var/").Dir("var/cache/").Dir("var/cache/app/").File("var/cache/app/old-1", "old\n")
            .File("var/cache/app/old-2", "old\n")
            .Dir("opt/").Dir("opt/gone/").File("opt/gone/file", "removed with its directory\n")
            .Dir("home/").Dir("home/user/", uid: 1000, gid: 1000)
            .File("home/user/notes.txt", "owned by 1000\n", uid: 1000, gid: 1000)
            .Dir("run/").Fifo("run/fifo");
        var l1 = new LayerDefinition(LayerCompression.Zstd) { CreatedBy = "zstd changes" }
            .Dir("etc/").Whiteout("etc/to-delete")
            .Dir("var/").Dir("var/cache/").Dir("var/cache/app/").Opaque("var/cache/app/")
            .File("var/cache/app/new", "new in layer 1\n")
            .Dir("usr/").Dir("usr/share/").Dir("usr/share/doc/").File("usr/share/doc/a.txt", "a from layer 1\n");
        var l2 = new LayerDefinition(LayerCompression.None) { CreatedBy = "plain tar changes" }
            .Dir("opt/").Whiteout("opt/gone")
            .Dir("data/", uid: 1000, gid: 1000).File("data/one", "1\n", uid: 1000, gid: 1000)
            .HardLink("data/two", "data/one", uid: 1000, gid: 1000);
        return new ImageDefinition { Cmd = ["/usr/bin/tool"], User = "1000:1000", WorkingDir = "/data" }
            .Layer(l0).Layer(l1).Layer(l2);
    }

    /// <summary>About 150 MB compressed in 3 layers and ~8,000 files, for the pull benchmark.</summary>
    public static ImageDefinition Big()
    {
        var def = new ImageDefinition { Cmd = ["/bin/true"] };
        for (int i = 0; i < 3; i++)
            def.Layer(BigContent.Layer(i, files: 2_700, largeFiles: 2));
        return def;
    }

    private static List<string> WriteFixture(string outDir, FixtureInputs inputs)
    {
        var image = ImageFactory.Build(Fixture(inputs.Read(inputs.FixtureAmd64, "fixture program (amd64)")));
        var written = new List<string>
        {
            Write(DockerArchive.Create(image, [FixtureTag], DockerArchiveStyle.OciCompatible), outDir, "hivelet-fixture.tar"),
            Write(DockerArchive.Create(image, [FixtureTag], DockerArchiveStyle.Legacy), outDir, "hivelet-fixture-legacy.tar"),
        };
        var layout = OciLayout.Create(new LayoutRef("latest", image, DockerArchive.FullName(FixtureTag)));
        written.Add(Write(layout, outDir, "hivelet-fixture-oci.tar"));
        written.Add(Write(layout, outDir, "hivelet-fixture.oci"));
        if (inputs.FixtureArm64 is not null && File.Exists(inputs.FixtureArm64))
        {
            var arm = ImageFactory.Build(Fixture(File.ReadAllBytes(inputs.FixtureArm64), "arm64", "v8"));
            var index = ImageFactory.BuildIndex([image, arm]);
            written.Add(Write(OciLayout.Create(new LayoutRef("latest", index, DockerArchive.FullName(FixtureTag))),
                outDir, "hivelet-fixture-multi.oci"));
        }
        return written;
    }

    private static List<string> WriteBusyboxMulti(string outDir, FixtureInputs inputs)
    {
        var platforms = new (string Arch, string? Variant, string? Path)[]
        {
            ("amd64", null, inputs.BusyboxAmd64), ("arm64", "v8", inputs.BusyboxArm64), ("arm", "v7", inputs.BusyboxArmhf),
        };
        var binaries = platforms.Select(p => inputs.Read(p.Path, $"busybox for linux/{p.Arch}")).ToList();
        BuiltIndex Index(ManifestFormat format) => ImageFactory.BuildIndex(
            platforms.Select((p, i) => ImageFactory.Build(Busybox(binaries[i], p.Arch, p.Variant, format))).ToList(), format);
        var oci = Index(ManifestFormat.Oci);
        var docker = Index(ManifestFormat.Docker);
        var layout = OciLayout.Create(new LayoutRef("latest", oci), new LayoutRef("docker", docker));
        return [Write(layout, outDir, "busybox-multi.oci"), Write(layout, outDir, "busybox-multi-oci.tar")];
    }

    /// <summary>
    /// hivelet/busybox as one single-platform archive per architecture: busybox-amd64-oci.tar (the container
    /// benchmarks, bench/run.sh) and busybox-arm64-oci.tar (the cgroup v2 VM, tests/vm).
    /// </summary>
    private static List<string> WriteBusyboxSingle(string outDir, FixtureInputs inputs) =>
    [
        .. new[] { ("amd64", (string?)null, inputs.BusyboxAmd64), ("arm64", "v8", inputs.BusyboxArm64) }.Select(p =>
        {
            var image = ImageFactory.Build(Busybox(inputs.Read(p.Item3, $"busybox for linux/{p.Item1}"), p.Item1, p.Item2));
            var layout = OciLayout.Create(new LayoutRef("latest", image, "docker.io/hivelet/busybox:latest"));
            return Write(layout, outDir, $"busybox-{p.Item1}-oci.tar");
        }),
    ];

    private static List<string> WriteLayered(string outDir)
    {
        var image = ImageFactory.Build(Layered());
        var layout = OciLayout.Create(new LayoutRef("latest", image, "docker.io/hivelet/layered:latest"));
        return
        [
            Write(layout, outDir, "layered.oci"),
            Write(layout, outDir, "layered-oci.tar"),
            Write(DockerArchive.Create(image, ["hivelet/layered:latest"], DockerArchiveStyle.OciCompatible), outDir, "layered.tar"),
        ];
    }

    private static List<string> WriteBig(string outDir)
    {
        var image = ImageFactory.Build(Big());
        return [Write(OciLayout.Create(new LayoutRef("latest", image, "docker.io/hivelet/big:latest")), outDir, "big.oci")];
    }

    private static string Write(ArchiveContent content, string outDir, string name)
    {
        var path = Path.Combine(outDir, name);
        if (name.EndsWith(".tar", StringComparison.Ordinal))
            content.WriteTar(path);
        else
            content.WriteDirectory(path);
        return path;
    }
}
