using System.Formats.Tar;

namespace Hivelet.Fixtures;

/// <summary>
/// One tar entry of a layer, written exactly as given: names are not cleaned or checked, so
/// tests can describe hostile layers ("../etc/passwd", absolute links) as easily as good ones.
/// </summary>
public sealed record LayerEntry
{
    public required string Name { get; init; }
    public required TarEntryType Type { get; init; }
    public byte[] Content { get; init; } = [];
    public int Mode { get; init; } = 0b110_100_100;
    public int Uid { get; init; }
    public int Gid { get; init; }
    public string? LinkName { get; init; }
    public int DeviceMajor { get; init; }
    public int DeviceMinor { get; init; }
    public IReadOnlyDictionary<string, string>? Xattrs { get; init; }
    public DateTimeOffset ModificationTime { get; init; } = DateTimeOffset.UnixEpoch;
}
