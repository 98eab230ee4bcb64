namespace Hivelet.Fixtures;

public enum LayerCompression
{
    Gzip,
    Zstd,
    None,
}
