using System.Globalization;
using Hivelet.Images.Content;
using Hivelet.IO;

namespace Hivelet.Runtime.Containers;

/// <summary>
/// Says whether this command must run the stores' repairs, so that a healthy store is not scanned on
/// every command. What a repair cleans can only be left by a hivelet process that died without
/// finishing (kill -9, OOM kill) or by a power loss. So every command that opens the root leaves a
/// marker <c>ROOT/procs/PID-STARTTIME</c> while it runs and deletes it on the way out; a marker whose
/// process is gone (pid dead or reused) is a command that died. A power loss is seen through the
/// kernel's boot id, recorded in <c>ROOT/procs/boot</c> after a repair: a new boot also means repair
/// (markers are not fsynced; after a reboot they do not matter). A root without that file (new, or
/// written by an older hivelet) is repaired once.
/// </summary>
public sealed class RepairGate : IDisposable
{
    public const string DirectoryName = "procs";
    public const string BootFileName = "boot";
    private readonly string _dir;
    private readonly string _marker;
    private readonly string _bootId;
    private readonly List<string> _dead = [];
    private bool _bootChanged;

    public RepairGate(string root, string? bootId = null)
    {
        _dir = Path.Combine(root, DirectoryName);
        StoreRoot.CreatePrivate(_dir);
        _bootId = bootId ?? ReadBootId();
        _bootChanged = ReadText(Path.Combine(_dir, BootFileName)) != _bootId;
        int self = Environment.ProcessId;
        foreach (var path in Directory.EnumerateFiles(_dir))
        {
            var name = Path.GetFileName(path);
            if (name == BootFileName || name.Contains(AtomicFile.TempMarker, StringComparison.Ordinal))
                continue;
            if (!TryParseMarker(name, out int pid, out ulong start) || ProcessInfo.StartTime(pid) != start)
                _dead.Add(path);
        }
        _marker = Path.Combine(_dir, MarkerName(self, ProcessInfo.StartTime(self)));
        using (File.Create(_marker))
        {
        }
    }

    /// <summary>A command died since the last repair, or the machine rebooted (or the root is new).</summary>
    public bool Needed => _bootChanged || _dead.Count > 0;

    /// <summary>The machine rebooted since the last repair (or the root is new).</summary>
    public bool BootChanged => _bootChanged;

    /// <summary>Call after every store was repaired: forgets the dead commands and records this boot.</summary>
    public void Repaired()
    {
        if (_bootChanged)
            AtomicFile.WriteAllText(Path.Combine(_dir, BootFileName), _bootId);
        _bootChanged = false;
        AtomicFile.CleanTemps(_dir);
        foreach (var path in _dead)
            File.Delete(path);
        _dead.Clear();
    }

    public void Dispose() => File.Delete(_marker);

    public static string MarkerName(int pid, ulong startTime) =>
        $"{pid.ToString(CultureInfo.InvariantCulture)}-{startTime.ToString(CultureInfo.InvariantCulture)}";

    internal static bool TryParseMarker(string name, out int pid, out ulong startTime)
    {
        startTime = 0;
        int dash = name.IndexOf('-', StringComparison.Ordinal);
        return int.TryParse(name.AsSpan(0, Math.Max(dash, 0)), NumberStyles.None, CultureInfo.InvariantCulture, out pid) &&
               ulong.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out startTime);
    }


    private static string ReadBootId() => ReadText("/proc/sys/kernel/random/boot_id") ?? "";

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
