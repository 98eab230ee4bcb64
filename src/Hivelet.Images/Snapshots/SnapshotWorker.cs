using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Hivelet.Errors;
using Hivelet.Interop;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// A dedicated OS thread with its own fs_struct (working directory) and, optionally, its own mount
/// namespace. Mounts made by a private-namespace worker exist only for that thread: they vanish when
/// the worker stops or the process dies (even by kill -9), so an interrupted unpack never leaves a
/// stale mount on the host.
/// <para>
/// Thread affinity: <see cref="Invoke{T}"/> runs a callback on the worker and waits for it. Other
/// threads reach the worker's mounts through <see cref="RootPath"/> (/proc/PID/task/TID/root), which
/// resolves paths in the worker's mount namespace; that is what the overlay snapshotter hands out as
/// <see cref="IActiveSnapshot.Path"/>, so callers need no thread affinity of their own as long as they
/// do not canonicalise that path (realpath would leave the namespace).
/// </para>
/// </summary>
public sealed class SnapshotWorker : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;
    private int _threadId;
    private bool _disposed;

    private SnapshotWorker(string name, bool privateMountNamespace, string? workingDirectory)
    {
        Exception? startError = null;
        using var started = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            try
            {
                Sys.Unshare(privateMountNamespace ? Sys.CLONE_NEWNS | Sys.CLONE_FS : Sys.CLONE_FS);
                // rslave: the host's later unmounts still reach our copy (no busy leftovers),
                // while nothing mounted here propagates back to the host.
                if (privateMountNamespace)
                    Sys.Mount(null, "/", null, Sys.MS_REC | Sys.MS_SLAVE, null);
                if (workingDirectory is not null)
                    Sys.ChangeDirectory(workingDirectory);
                _threadId = Sys.GetThreadId();
            }
            catch (Exception e)
            {
                startError = e;
                started.Set();
                return;
            }
            started.Set();
            foreach (var work in _queue.GetConsumingEnumerable())
                work();
        })
        {
            IsBackground = true,
            Name = name,
        };
        _thread.Start();
        started.Wait();
        if (startError is not null)
        {
            _thread.Join();
            _queue.Dispose();
            throw new HiveletException($"start {name} thread", startError);
        }
    }

    /// <summary>
    /// Starts a worker. With <paramref name="privateMountNamespace"/> its mounts are invisible to the
    /// rest of the process and die with it; without, it shares the host's mount table but can still
    /// chdir privately (for mount options with relative paths).
    /// </summary>
    public static SnapshotWorker Start(string name, bool privateMountNamespace, string? workingDirectory = null) =>
        new(name, privateMountNamespace, workingDirectory);

    /// <summary>The kernel thread id of the worker.</summary>
    public int ThreadId => _threadId;

    /// <summary>The worker's root directory as seen from any thread of this process.</summary>
    public string RootPath => $"/proc/{Environment.ProcessId}/task/{_threadId}/root";

    /// <summary>Runs <paramref name="work"/> on the worker thread and returns its result or rethrows its exception.</summary>
    public T Invoke<T>(Func<T> work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId)
            return work();
        T result = default!;
        ExceptionDispatchInfo? error = null;
        using var done = new ManualResetEventSlim();
        _queue.Add(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        error?.Throw();
        return result;
    }

    public void Invoke(Action work) => Invoke(() =>
    {
        work();
        return true;
    });

    /// <summary>Stops the thread; a private mount namespace and everything mounted in it go with it.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _queue.CompleteAdding();
        if (Environment.CurrentManagedThreadId != _thread.ManagedThreadId)
            _thread.Join();
        _queue.Dispose();
    }
}
