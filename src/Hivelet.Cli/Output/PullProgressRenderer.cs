using System.Diagnostics;
using Hivelet.Images.Oci;
using Hivelet.Images.Pulling;

namespace Hivelet.Cli.Output;

/// <summary>
/// Docker-style pull output. On a terminal: one live line per layer with a bar, bytes and rate, redrawn
/// at most every 100 ms. Otherwise: one plain line per phase change, so logs stay readable.
/// </summary>
public sealed class PullProgressRenderer : IPullObserver, IDisposable
{
    private const int BarWidth = 50;
    private readonly TextWriter _out;
    private readonly bool _live;
    private readonly Lock _lock = new();
    private readonly List<LayerLine> _lines = [];
    private readonly Dictionary<Digest, LayerLine> _byDigest = [];
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private int _drawnLines;

    public PullProgressRenderer(TextWriter output, bool live)
    {
        _out = output;
        _live = live;
    }

    public void Resolved(string reference, Digest digest, string platform)
    {
        lock (_lock)
        {
            _out.WriteLine($"{reference}: Pulling ({platform})");
        }
    }

    public void Layer(Digest layer, LayerPhase phase, long current, long total)
    {
        lock (_lock)
        {
            if (!_byDigest.TryGetValue(layer, out var line))
            {
                line = new LayerLine(layer.Short);
                _byDigest[layer] = line;
                _lines.Add(line);
            }
            bool changed = line.Phase != phase;
            if (changed)
            {
                line.PhaseStarted.Restart();
            }
            line.Phase = phase;
            line.Current = current;
            line.Total = total;

            if (_live)
            {
                if (changed || _sinceDraw.ElapsedMilliseconds >= 100)
                    Redraw();
            }
            else if (changed && phase is not (LayerPhase.Waiting or LayerPhase.Verifying))
            {
                _out.WriteLine($"{line.Id}: {Label(phase)}");
            }
        }
    }

    /// <summary>Draws the final state once more so every line ends on its last phase.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_live && _lines.Count > 0)
                Redraw();
            _out.Flush();
        }
    }

    private void Redraw()
    {
        if (_drawnLines > 0)
            _out.Write($"\x1b[{_drawnLines}A");
        foreach (var line in _lines)
            _out.Write("\x1b[2K" + Format(line) + "\n");
        _drawnLines = _lines.Count;
        _out.Flush();
        _sinceDraw.Restart();
    }

    private static string Format(LayerLine line)
    {
        if (line.Phase is not (LayerPhase.Downloading or LayerPhase.Extracting) || line.Total <= 0)
            return $"{line.Id}: {Label(line.Phase)}";
        double fraction = Math.Clamp((double)line.Current / line.Total, 0, 1);
        int filled = (int)(fraction * BarWidth);
        var bar = new string('=', Math.Max(0, filled - 1)) + (filled > 0 ? ">" : "") + new string(' ', BarWidth - filled);
        var seconds = line.PhaseStarted.Elapsed.TotalSeconds;
        var rate = seconds > 0.2 ? $"  {Units.HumanSize(line.Current / seconds)}/s" : "";
        return $"{line.Id}: {Label(line.Phase),-12} [{bar}] {Units.HumanSize(line.Current),8}/{Units.HumanSize(line.Total)}{rate}";
    }

    private static string Label(LayerPhase phase) => phase switch
    {
        LayerPhase.Waiting => "Waiting",
        LayerPhase.AlreadyExists => "Already exists",
        LayerPhase.Downloading => "Downloading",
        LayerPhase.Verifying => "Verifying Checksum",
        LayerPhase.DownloadComplete => "Download complete",
        LayerPhase.Extracting => "Extracting",
        LayerPhase.PullComplete => "Pull complete",
        _ => phase.ToString(),
    };

    private sealed class LayerLine(string id)
    {
        public string Id { get; } = id;
        public LayerPhase Phase { get; set; } = (LayerPhase)(-1);
        public long Current { get; set; }
        public long Total { get; set; }
        public Stopwatch PhaseStarted { get; } = Stopwatch.StartNew();
    }
}
