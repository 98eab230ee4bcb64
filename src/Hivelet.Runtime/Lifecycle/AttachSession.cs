using System.Net.Sockets;
using System.Runtime.InteropServices;
using Hivelet.Interop;
using Hivelet.Runtime.Containers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Runtime.Lifecycle;

/// <summary>
/// An attached run or `start -a`: output frames to the caller's stdout/stderr, the caller's stdin as
/// STDIN frames (-i), and with -t the caller's terminal in raw mode (restored on every way out) and its
/// size sent as RESIZE. Without -t, SIGINT and SIGTERM are forwarded to the container as Docker's
/// sig-proxy does. Returns the EXIT frame's code, or null when the monitor vanished without one.
/// </summary>
public sealed class AttachSession(StartedContainer started, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly Lock _writeLock = new();

    public Stream Stdout { get; init; } = Console.OpenStandardOutput();
    public Stream Stderr { get; init; } = Console.OpenStandardError();

    /// <summary>Null: the container's stdin is not attached.</summary>
    public Stream? Stdin { get; init; }

    public bool Tty { get; init; }

    public async Task<(int Code, bool OomKilled)?> RunAsync(CancellationToken ct)
    {
        using var stream = new NetworkStream(started.Socket, ownsSocket: false);
        Sys.RawTerminal? raw = null;
        var registrations = new List<PosixSignalRegistration>();
        try
        {
            if (Tty && Stdin is not null && Sys.IsTerminal(0))
                raw = Sys.MakeRaw(0);
            if (OperatingSystem.IsWindows())
                throw new PlatformNotSupportedException("attach needs POSIX signals");
            if (Tty)
            {
                SendResize();
                registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => SendResize()));
            }
            if (!Tty)
            {
                registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Forward(c, Sys.SIGINT)));
                registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, Sys.SIGTERM)));
            }
            else
            {
                // With a tty, ^C travels as a byte through the pty; a SIGTERM to the CLI still goes to the container.
                registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, Sys.SIGTERM)));
            }
            if (Stdin is not null)
                _ = Task.Run(() => PumpStdinAsync(Stdin, ct), ct);

            // EXIT comes after every output frame (the monitor drains the container's pipes first), so
            // the session ends there; with --rm the monitor then waits for REMOVED or the socket's EOF.
            while (true)
            {
                var frame = await StartFrames.ReadAsync(stream, ct).ConfigureAwait(false);
                if (frame is null)
                    return null;
                switch (frame.Value.Type)
                {
                    case FrameType.Stdout:
                        await Stdout.WriteAsync(frame.Value.Payload, ct).ConfigureAwait(false);
                        await Stdout.FlushAsync(ct).ConfigureAwait(false);
                        break;
                    case FrameType.Stderr:
                        await Stderr.WriteAsync(frame.Value.Payload, ct).ConfigureAwait(false);
                        await Stderr.FlushAsync(ct).ConfigureAwait(false);
                        break;
                    case FrameType.Exit:
                        return frame.Value.ExitStatus;
                }
            }
        }
        finally
        {
            foreach (var r in registrations)
                r.Dispose();
            raw?.Dispose();
        }
    }

    private void Forward(PosixSignalContext context, int signal)
    {
        context.Cancel = true;
        _logger.ForwardingSignal(started.Record.Id, signal, started.Pid);
        try
        {
            if (ProcessInfo.StartTime(started.Pid) != 0)
                Sys.Kill(started.Pid, signal);
        }
        catch (ErrnoException)
        {
            // The container is gone: the EXIT frame follows.
        }
    }

    private void SendResize()
    {
        var size = Sys.TerminalSize(1) ?? Sys.TerminalSize(0);
        if (size is { } s)
            Send(StartFrames.Resize(s.Rows, s.Cols));
    }

    private async Task PumpStdinAsync(Stream stdin, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await stdin.ReadAsync(buffer, ct).ConfigureAwait(false);
                if (n == 0)
                    break;
                Send(StartFrames.Encode(FrameType.Stdin, buffer.AsSpan(0, n)));
            }
            Send(StartFrames.Encode(FrameType.StdinEof, []));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The container or the monitor went away first.
        }
    }

    private void Send(byte[] frame)
    {
        lock (_writeLock)
        {
            try
            {
                started.Socket.Send(frame);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Same as above: nothing left to deliver to.
            }
        }
    }
}
