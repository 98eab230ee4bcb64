using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Hivelet.EndToEnd.Tests.Harness;
using Hivelet.EndToEnd.Tests.Monitor;

namespace Hivelet.EndToEnd.Tests.Lifecycle;

/// <summary>
/// A pseudo-terminal for driving `hivelet run -it` as a user would: the CLI is spawned in its own
/// session with the slave as its controlling terminal; the test types into and reads the master.
/// Dispose kills the CLI (if still running) and closes both ends. Test code only.
/// </summary>
internal sealed partial class Pty : IDisposable
{
    private const int O_RDWR = 2, O_NOCTTY = 0x100, O_NONBLOCK = 0x800;
    private const ulong TIOCSWINSZ = 0x5414;
    private const short POLLIN = 1;

    private readonly int _master;
    private readonly int _slaveHold;
    private readonly StringBuilder _output = new();
    private readonly Thread _reader;
    private volatile bool _stop;
    private int _pid;
    private int? _exitCode;

    public unsafe Pty(ushort rows, ushort cols)
    {
        _master = posix_openpt(O_RDWR | O_NOCTTY);
        if (_master < 0 || grantpt(_master) != 0 || unlockpt(_master) != 0)
            throw new InvalidOperationException($"posix_openpt/grantpt/unlockpt: errno {Marshal.GetLastPInvokeError()}");
        var name = stackalloc byte[128];
        if (ptsname_r(_master, name, 128) != 0)
            throw new InvalidOperationException("ptsname_r failed");
        SlavePath = Marshal.PtrToStringUTF8((nint)name)!;
        // Held open so the terminal (and its settings) outlives the CLI for the after-exit checks.
        _slaveHold = open(SlavePath, O_RDWR | O_NOCTTY | O_NONBLOCK);
        if (_slaveHold < 0)
            throw new InvalidOperationException($"open {SlavePath}: errno {Marshal.GetLastPInvokeError()}");
        Resize(rows, cols);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "pty reader" };
        _reader.Start();
    }

    public string SlavePath { get; }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Starts `hivelet --root ROOT args...` in a new session whose controlling terminal is the slave.</summary>
    public unsafe void Start(HiveletCli cli, params string[] args)
    {
        var actions = Marshal.AllocHGlobal(SpawnNative.OpaqueSize);
        var attr = Marshal.AllocHGlobal(SpawnNative.OpaqueSize);
        var strings = new List<nint>();
        try
        {
            SpawnNative.posix_spawn_file_actions_init(actions);
            SpawnNative.posix_spawnattr_init(attr);
            // glibc runs setsid before the file actions, so opening the slave makes it the controlling tty.
            Check(SpawnNative.posix_spawnattr_setflags(attr, SpawnNative.POSIX_SPAWN_SETSID));
            Check(SpawnNative.posix_spawn_file_actions_addopen(actions, 0, SlavePath, O_RDWR, 0));
            Check(SpawnNative.posix_spawn_file_actions_adddup2(actions, 0, 1));
            Check(SpawnNative.posix_spawn_file_actions_adddup2(actions, 0, 2));
            nint Utf8(string s)
            {
                var p = Marshal.StringToCoTaskMemUTF8(s);
                strings.Add(p);
                return p;
            }
            string[] argv = [cli.Binary, "--root", cli.Root, .. args];
            var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
            foreach (var (key, value) in cli.Environment)
                env[key] = value;
            env["TERM"] = "xterm";
            var envs = env.Where(e => e.Value is not null).Select(e => $"{e.Key}={e.Value}").ToArray();
            var argvp = new nint[argv.Length + 1];
            for (var i = 0; i < argv.Length; i++)
                argvp[i] = Utf8(argv[i]);
            var envp = new nint[envs.Length + 1];
            for (var i = 0; i < envs.Length; i++)
                envp[i] = Utf8(envs[i]);
            int pid;
            fixed (nint* a = argvp)
            fixed (nint* e = envp)
                Check(SpawnNative.posix_spawn(&pid, a[0], actions, attr, a, e));
            _pid = pid;
        }
        finally
        {
            SpawnNative.posix_spawn_file_actions_destroy(actions);
            SpawnNative.posix_spawnattr_destroy(attr);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attr);
            foreach (var s in strings)
                Marshal.FreeCoTaskMem(s);
        }
    }

    public unsafe void Type(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
        {
            if (write(_master, p, (nuint)bytes.Length) != bytes.Length)
                throw new InvalidOperationException($"write to the pty master: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>TIOCSWINSZ on the master: the kernel sends SIGWINCH to the terminal's foreground group.</summary>
    public unsafe void Resize(ushort rows, ushort cols)
    {
        var size = new WinSize { Rows = rows, Cols = cols };
        if (ioctl(_master, TIOCSWINSZ, &size) != 0)
            throw new InvalidOperationException($"TIOCSWINSZ: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits (bounded) until the output after <paramref name="from"/> contains <paramref name="text"/>.</summary>
    public async Task WaitForAsync(string text, int from, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (Output is var output && (from > output.Length || output.IndexOf(text, from, StringComparison.Ordinal) < 0))
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"no `{text}` on the terminal within {timeout.TotalSeconds:F0}s; output:\n{Output}");
            if (HasExited)
                throw new InvalidOperationException($"hivelet exited with {_exitCode} before `{text}`; output:\n{Output}");
            await Task.Delay(20);
        }
    }

    public unsafe bool HasExited
    {
        get
        {
            if (_exitCode is null && _pid > 0)
            {
                int status;
                if (SpawnNative.waitpid(_pid, &status, SpawnNative.WNOHANG) == _pid)
                    _exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
            }
            return _exitCode is not null;
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!HasExited)
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"hivelet did not exit within {timeout.TotalSeconds:F0}s; output:\n{Output}");
            await Task.Delay(20);
        }
        return _exitCode!.Value;
    }

    public unsafe void Dispose()
    {
        if (_pid > 0 && !HasExited)
        {
            SpawnNative.kill(_pid, SpawnNative.SIGKILL);
            int status;
            SpawnNative.waitpid(_pid, &status, 0);
        }
        _stop = true;
        _reader.Join(2_000);
        close(_slaveHold);
        close(_master);
    }

    private unsafe void ReadLoop()
    {
        var buffer = new byte[4096];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[8192];
        while (!_stop)
        {
            var fds = new PollFd { Fd = _master, Events = POLLIN };
            if (poll(&fds, 1, 50) <= 0 || (fds.Revents & POLLIN) == 0)
                continue;
            int n;
            fixed (byte* p = buffer)
                n = (int)read(_master, p, (nuint)buffer.Length);
            if (n <= 0)
                continue;
            var count = decoder.GetChars(buffer, 0, n, chars, 0);
            lock (_output)
                _output.Append(chars, 0, count);
        }
    }

    private static void Check(int rc)
    {
        if (rc != 0)
            throw new InvalidOperationException($"posix_spawn setup failed: {rc}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixel;
        public ushort YPixel;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_openpt(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int grantpt(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlockpt(int fd);

    [LibraryImport("libc")]
    private static unsafe partial int ptsname_r(int fd, byte* buf, nuint len);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, ulong request, WinSize* size);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint nfds, int timeout);
}
