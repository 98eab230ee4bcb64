using Hivelet.Images.Oci;

namespace Hivelet.Images.Pulling;

public enum LayerPhase
{
    Waiting,
    AlreadyExists,
    Downloading,
    Verifying,
    DownloadComplete,
    Extracting,
    PullComplete,
}

/// <summary>
/// What a pull reports as it goes, for the CLI to render. Calls may come from several threads at once
/// (layers download in parallel); implementations synchronise themselves.
/// </summary>
public interface IPullObserver
{
    /// <summary>The reference resolved to <paramref name="digest"/> and the platform manifest was chosen.</summary>
    void Resolved(string reference, Digest digest, string platform);

    /// <summary>A layer moved on. <paramref name="current"/>/<paramref name="total"/> are bytes of the current phase.</summary>
    void Layer(Digest layer, LayerPhase phase, long current, long total);
}

/// <summary>Reports nothing (for -q and tests).</summary>
public sealed class NullPullObserver : IPullObserver
{
    public static readonly NullPullObserver Instance = new();

    public void Resolved(string reference, Digest digest, string platform) { }

    public void Layer(Digest layer, LayerPhase phase, long current, long total) { }
}
