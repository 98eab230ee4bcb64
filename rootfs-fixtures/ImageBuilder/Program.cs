using Hivelet.Fixtures;

if (args.Length < 2 || !FixtureSets.Names.Contains(args[0]))
{
    await Console.Error.WriteLineAsync(
        $"""
        usage: ImageBuilder <{string.Join('|', FixtureSets.Names)}> <outdir> [--name=path ...]
          --fixture-amd64=PATH  --fixture-arm64=PATH   static fixture programs (HIVELET_FIXTURE_AMD64/_ARM64)
          --busybox-amd64=PATH  --busybox-arm64=PATH  --busybox-armhf=PATH
                                                      static busybox binaries (HIVELET_BUSYBOX_AMD64/_ARM64/_ARMHF)
        Defaults: <outdir>/bin/fixture-<arch> and <outdir>/../peers/busybox-<arch>/bin/busybox (where build.sh puts them).
        """);
    return 2;
}

try
{
    var inputs = FixtureInputs.FromArgs(args[2..], args[1]);
    Directory.CreateDirectory(args[1]);
    foreach (var path in FixtureSets.Build(args[0], args[1], inputs))
        Console.WriteLine(path);
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException)
{
    await Console.Error.WriteLineAsync($"ImageBuilder {args[0]}: {e.Message}");
    return 1;
}
