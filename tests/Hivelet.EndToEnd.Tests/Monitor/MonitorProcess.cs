using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Monitor;

/// <summary>One frame on the start socket (CONTRACT.md).</summary>
public sealed record Frame(byte Type, byte[] Payload)
{
    public const byte Stdin = 0, Stdout = 1, Stderr = 2, Started = 3, Exit = 4, Error = 5, StdinEof = 6, Resize = 7, Removed = 8;

    public string Text => Encoding.UTF8.GetString(Payload);

    public override string ToString() => $"{Type}:{Text}";
}

/// <summary>
/// `hivelet __monitor BUNDLE` started as the CLI starts it: own session, stdin/stdout on
/// /dev/null, stderr appended to monitor.log, fd 3 = our socketpair's other end. Dispose stops
/// it for good: stop marker, SIGKILL to the monitor, then to the container it left (pid from the
/// status file, checked against its start time), and reaps the monitor.
/// </summary>
public sealed class MonitorProcess : IDisposable
{
    private readonly MonitorBundle _bundle;
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];
    private bool _reaped;

    private MonitorProcess(MonitorBundle bundle, int pid, Socket socket)
    {
        _bundle = bundle;
        Pid = pid;
        _socket = socket;
    }

    public int Pid { get; }

    /// <summary>The wait status once reaped (see <see cref="WaitExit"/>).</summary>
    public int WaitStatus { get; private set; }

    public static unsafe MonitorProcess Start(MonitorBundle bundle, string? binary = null)
    {
        binary ??= RepoPaths.HiveletBinary;
        if (!File.Exists(binary))
            throw new FileNotFoundException($"hivelet binary not found at {binary}: run ./build.sh (or set HIVELET_BIN)");
        bundle.WritePlan();

        int* sv = stackalloc int[2];
        if (SpawnNative.socketpair(SpawnNative.AF_UNIX, SpawnNative.SOCK_STREAM | SpawnNative.SOCK_CLOEXEC, 0, sv) < 0)
            throw new InvalidOperationException($"socketpair: errno {Marshal.GetLastPInvokeError()}");
        var actions = Marshal.AllocHGlobal(SpawnNative.OpaqueSize);
        var attr = Marshal.AllocHGlobal(SpawnNative.OpaqueSize);
        var strings = new List<nint>();
        try
        {
            SpawnNative.posix_spawn_file_actions_init(actions);
            SpawnNative.posix_spawnattr_init(attr);
            Check(SpawnNative.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", SpawnNative.O_RDONLY, 0));
            Check(SpawnNative.posix_spawn_file_actions_addopen(actions, 1, "/dev/null", SpawnNative.O_WRONLY, 0));
            Check(SpawnNative.posix_spawn_file_actions_addopen(actions, 2, bundle.MonitorLog,
                SpawnNative.O_WRONLY | SpawnNative.O_CREAT | SpawnNative.O_APPEND, 0x1a4));
            Check(SpawnNative.posix_spawn_file_actions_adddup2(actions, sv[1], 3));
            Check(SpawnNative.posix_spawnattr_setflags(attr, SpawnNative.POSIX_SPAWN_SETSID));

            nint Utf8(string s)
            {
                var p = Marshal.StringToCoTaskMemUTF8(s);
                strings.Add(p);
                return p;
            }
            string[] args = [binary, "__monitor", bundle.Bundle];
            var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Select(e => $"{e.Key}={e.Value}").ToArray();
            var argv = stackalloc nint[args.Length + 1];
            for (var i = 0; i < args.Length; i++)
                argv[i] = Utf8(args[i]);
            argv[args.Length] = 0;
            var envp = new nint[env.Length + 1];
            for (var i = 0; i < env.Length; i++)
                envp[i] = Utf8(env[i]);
            int pid;
            fixed (nint* envPtr = envp)
                Check(SpawnNative.posix_spawn(&pid, argv[0], actions, attr, argv, envPtr));
            SpawnNative.close(sv[1]);
            return new MonitorProcess(bundle, pid, new Socket(new SafeSocketHandle(sv[0], ownsHandle: true)));
        }
        catch
        {
            SpawnNative.close(sv[0]);
            SpawnNative.close(sv[1]);
            throw;
        }
        finally
        {
            SpawnNative.posix_spawn_file_actions_destroy(actions);
            SpawnNative.posix_spawnattr_destroy(attr);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attr);
            foreach (var p in strings)
                Marshal.FreeCoTaskMem(p);
        }
    }

    private static void Check(int rc)
    {
        if (rc != 0)
            throw new InvalidOperationException($"posix_spawn setup failed: error {rc}");
    }

    /// <summary>The next frame, or null at EOF; throws TimeoutException after <paramref name="timeout"/>.</summary>
    public Frame? ReadFrame(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var buffer = new byte[65536];
        while (true)
        {
            if (_pending.Count >= 5)
            {
                var header = _pending.GetRange(0, 5).ToArray();
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                if (_pending.Count >= 5 + length)
                {
                    var payload = _pending.GetRange(5, length).ToArray();
                    _pending.RemoveRange(0, 5 + length);
                    return new Frame(header[0], payload);
                }
            }
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"no frame within {timeout.TotalSeconds:F1}s\n{_bundle.Describe()}");
            if (!_socket.Poll(left, SelectMode.SelectRead))
                continue;
            int n;
            try
            {
                n = _socket.Receive(buffer);
            }
            catch (SocketException)
            {
                return null;
            }
            if (n == 0)
                return null;
            _pending.AddRange(buffer.AsSpan(0, n));
        }
    }

    /// <summary>Frames up to and including the first of <paramref name="type"/> (or EOF).</summary>
    public List<Frame> ReadUntil(byte type, TimeSpan timeout)
    {
        var frames = new List<Frame>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var frame = ReadFrame(timeout - clock.Elapsed);
            if (frame is null)
                return frames;
            frames.Add(frame);
            if (frame.Type == type)
                return frames;
        }
    }

    public void Send(byte type, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        _socket.Send(frame);
    }

    /// <summary>Closes our end, as a CLI does after a detached start.</summary>
    public void CloseSocket() => _socket.Dispose();

    /// <summary>Reaps the monitor; false if it is still running after <paramref name="timeout"/>.</summary>
    public unsafe bool WaitExit(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!_reaped)
        {
            int status;
            var rc = SpawnNative.waitpid(Pid, &status, SpawnNative.WNOHANG);
            if (rc == Pid)
            {
                _reaped = true;
                WaitStatus = status;
                break;
            }
            if (rc < 0)
                throw new InvalidOperationException($"waitpid {Pid}: errno {Marshal.GetLastPInvokeError()}");
            if (clock.Elapsed > timeout)
                return false;
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>kill -9 of the monitor (the container stays).</summary>
    public void Kill9()
    {
        if (!_reaped)
            SpawnNative.kill(Pid, SpawnNative.SIGKILL);
        WaitExit(TimeSpan.FromSeconds(10));
    }

    /// <summary>Polls until <paramref name="condition"/> holds; false after <paramref name="timeout"/>.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                return false;
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>Field 22 of /proc/PID/stat, or 0 when the process is gone.</summary>
    public static ulong ProcStart(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return ulong.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_bundle.Bundle))
                File.WriteAllText(Path.Combine(_bundle.Bundle, "stop"), "");
        }
        catch (IOException)
        {
        }
        Kill9();
        var status = _bundle.Status();
        if (status.TryGetValue("pid", out var p) && int.TryParse(p, out var pid) && pid > 0 &&
            status.TryGetValue("pid_start", out var s) && ProcStart(pid).ToString(System.Globalization.CultureInfo.InvariantCulture) == s)
        {
            SpawnNative.kill(pid, SpawnNative.SIGKILL);
            Eventually(() => ProcStart(pid) == 0, TimeSpan.FromSeconds(10));
        }
        _socket.Dispose();
    }
}
