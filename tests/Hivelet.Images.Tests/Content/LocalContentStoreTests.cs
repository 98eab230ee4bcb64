using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.IO;

namespace Hivelet.Images.Tests.Content;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocalContentStoreTests : IDisposable
{
    private readonly TempStore _t = new();

    public void Dispose() => _t.Dispose();

    private LocalContentStore Store => _t.Content;

    [Fact]
    public void PutThenReadSizeListAndDelete()
    {
        var data = TempStore.RandomBytes(5000, 1);
        var digest = Digest.ComputeSha256(data);
        Assert.False(Store.Exists(digest));

        Store.Put(digest, data);

        Assert.True(Store.Exists(digest));
        Assert.Equal(5000, Store.GetSize(digest));
        using (var s = Store.OpenRead(digest))
        using (var copy = new MemoryStream())
        {
            s.CopyTo(copy);
            Assert.Equal(data, copy.ToArray());
        }
        Assert.Equal([digest], Store.List());
        Assert.True(Store.Verify(digest));
        Assert.True(Store.Delete(digest));
        Assert.False(Store.Delete(digest));
        Assert.False(Store.Exists(digest));
        Assert.Empty(Store.List());
    }

    [Fact]
    public void MissingBlobIsNotFound()
    {
        var digest = Digest.ComputeSha256("absent"u8);
        Assert.Throws<NotFoundException>(() => Store.GetSize(digest));
        var e = Assert.Throws<NotFoundException>(() => Store.OpenRead(digest));
        Assert.Contains(digest.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommittedBlobIsReadOnlyAndIngestIsGone()
    {
        var data = TempStore.RandomBytes(100, 2);
        var digest = Digest.ComputeSha256(data);
        Store.Put(digest, data);
        var mode = File.GetUnixFileMode(_t.Root.BlobPath(digest));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, mode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_t.Root.IngestDir));
    }

    [Fact]
    public void RootIsPrivate()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_t.Root.Root));
        Assert.Equal(Path.Combine(_t.Root.Root, "content", "blobs", "sha256", new string('a', 64)),
            _t.Root.BlobPath(Digest.Parse("sha256:" + new string('a', 64))));
    }

    [Fact]
    public void AnExistingRootKeepsItsMode()
    {
        var shared = Path.Combine(_t.Dir, "shared");
        Directory.CreateDirectory(shared, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var mode = File.GetUnixFileMode(shared);
        _ = new LocalContentStore(new StoreRoot(shared));
        Assert.Equal(mode, File.GetUnixFileMode(shared));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(shared, "content")));
    }

    [Fact]
    public void PutWithWrongDigestLeavesNothing()
    {
        var claimed = Digest.ComputeSha256("the real thing"u8);
        var e = Assert.Throws<DigestMismatchException>(() => Store.Put(claimed, "an impostor"u8));
        Assert.Contains(claimed.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains(Digest.ComputeSha256("an impostor"u8).ToString(), e.Message, StringComparison.Ordinal);
        Assert.False(Store.Exists(claimed));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_t.Root.IngestDir));
    }

    [Fact]
    public void WriterDigestMismatchNamesBothDigestsAndRemovesPartial()
    {
        var claimed = Digest.ComputeSha256(TempStore.RandomBytes(64, 3));
        var served = TempStore.RandomBytes(64, 4);
        using var w = Store.OpenWriter(claimed, 64);
        w.Write(served);
        var e = Assert.Throws<DigestMismatchException>(w.Commit);
        Assert.Contains(claimed.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains(Digest.ComputeSha256(served).ToString(), e.Message, StringComparison.Ordinal);
        Assert.False(Store.Exists(claimed));
        Assert.False(Directory.Exists(_t.Root.IngestPath(claimed)));
        Assert.Empty(Store.List());
    }

    [Fact]
    public void WritingPastExpectedSizeFailsAndDiscards()
    {
        var data = TempStore.RandomBytes(10, 5);
        var digest = Digest.ComputeSha256(data);
        using var w = Store.OpenWriter(digest, 10);
        w.Write(data.AsSpan(0, 6));
        Assert.Throws<DigestMismatchException>(() => w.Write(data.AsSpan(0, 6)));
        Assert.False(Directory.Exists(_t.Root.IngestPath(digest)));
    }

    [Fact]
    public void ShortCommitKeepsPartialForResume()
    {
        var data = TempStore.RandomBytes(10, 6);
        var digest = Digest.ComputeSha256(data);
        using (var w = Store.OpenWriter(digest, 10))
        {
            w.Write(data.AsSpan(0, 4));
            Assert.Throws<DigestMismatchException>(w.Commit);
        }
        using var again = Store.OpenWriter(digest, 10);
        Assert.Equal(4, again.Offset);
    }

    [Fact]
    public async Task ResumesAfterWriterWentAwayWithoutCommit()
    {
        var data = TempStore.RandomBytes(300_000, 7);
        var digest = Digest.ComputeSha256(data);
        using (var first = Store.OpenWriter(digest, data.Length))
        {
            Assert.Equal(0, first.Offset);
            first.Write(data.AsSpan(0, 150_000));
        }
        Assert.False(Store.Exists(digest));
        // The layout KilledWriter lays out by hand for the crash tests below.
        Assert.Equal(["data", "lock", "ref", "startedat", "total"],
            Directory.EnumerateFiles(_t.Root.IngestPath(digest)).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        using (var second = Store.OpenWriter(digest, data.Length))
        {
            Assert.Equal(150_000, second.Offset);
            await second.WriteAsync(data.AsMemory(150_000));
            second.Commit();
        }
        Assert.True(Store.Verify(digest));
        Assert.Empty(Store.ListIngests());
    }

    [Fact]
    public void TruncateRestartsTheIngest()
    {
        var data = TempStore.RandomBytes(1000, 8);
        var digest = Digest.ComputeSha256(data);
        using (var w = Store.OpenWriter(digest, data.Length))
            w.Write(TempStore.RandomBytes(500, 9));
        using (var w = Store.OpenWriter(digest, data.Length))
        {
            Assert.Equal(500, w.Offset);
            w.Truncate();
            Assert.Equal(0, w.Offset);
            w.Write(data);
            w.Commit();
        }
        Assert.True(Store.Verify(digest));
    }

    [Fact]
    public void PartialLargerThanExpectedIsDiscarded()
    {
        var data = TempStore.RandomBytes(100, 10);
        var digest = Digest.ComputeSha256(data);
        var dir = _t.Root.IngestPath(digest);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "data"), TempStore.RandomBytes(150, 11));

        using var w = Store.OpenWriter(digest, data.Length);
        Assert.Equal(0, w.Offset);
        w.Write(data);
        w.Commit();
        Assert.True(Store.Verify(digest));
    }

    [Fact]
    public void UnknownSizeChecksOnlyTheDigest()
    {
        var data = TempStore.RandomBytes(77, 12);
        var digest = Digest.ComputeSha256(data);
        using var w = Store.OpenWriter(digest, -1);
        w.Write(data);
        w.Commit();
        Assert.Equal(77, Store.GetSize(digest));
    }

    [Fact]
    public void WriterIsUnusableAfterCommit()
    {
        var data = TempStore.RandomBytes(5, 13);
        var w = Store.OpenWriter(Digest.ComputeSha256(data), 5);
        w.Write(data);
        w.Commit();
        Assert.Throws<ObjectDisposedException>(() => w.Write(data));
        w.Dispose();
    }

    [Fact]
    public void CommitWhenBlobAlreadyExistsDropsIngest()
    {
        var data = TempStore.RandomBytes(64, 14);
        var digest = Digest.ComputeSha256(data);
        using (var w = Store.OpenWriter(digest, data.Length))
        {
            w.Write(data);
            File.WriteAllBytes(_t.Root.BlobPath(digest), data); // committed meanwhile by another route
            w.Commit();
        }
        Assert.True(Store.Verify(digest));
        Assert.False(Directory.Exists(_t.Root.IngestPath(digest)));
    }

    [Fact]
    public void VerifyDetectsACorruptedBlob()
    {
        var data = TempStore.RandomBytes(64, 16);
        var digest = Digest.ComputeSha256(data);
        Store.Put(digest, data);
        var path = _t.Root.BlobPath(digest);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(path, TempStore.RandomBytes(64, 17));
        Assert.False(Store.Verify(digest));
    }

    [Fact]
    public void SecondWriterOfSameDigestIsToldItIsBusy()
    {
        var data = TempStore.RandomBytes(64, 18);
        var digest = Digest.ComputeSha256(data);
        using (var first = Store.OpenWriter(digest, data.Length))
        {
            first.Write(data.AsSpan(0, 10));
            var e = Assert.Throws<StoreBusyException>(() => Store.OpenWriter(digest, data.Length));
            Assert.Contains("already being written", e.Message, StringComparison.Ordinal);
            Assert.True(Assert.Single(Store.ListIngests()).Active);
            first.Write(data.AsSpan(10));
            first.Commit();
        }
        using var later = Store.OpenWriter(digest, data.Length);
        Assert.Equal(0, later.Offset);
    }

    [Fact]
    public void ConcurrentWritersOfOneDigestProduceOneGoodBlob()
    {
        var data = TempStore.RandomBytes(2_000_000, 19);
        var digest = Digest.ComputeSha256(data);
        int busy = 0;
        void Pull()
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!Store.Exists(digest) && DateTime.UtcNow < deadline)
            {
                try
                {
                    using var w = Store.OpenWriter(digest, data.Length);
                    for (long off = w.Offset; off < data.Length; off += 65536)
                        w.Write(data.AsSpan((int)off, (int)Math.Min(65536, data.Length - off)));
                    w.Commit();
                }
                catch (StoreBusyException)
                {
                    Interlocked.Increment(ref busy);
                    Thread.Sleep(1);
                }
            }
        }
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(Pull)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.True(Store.Verify(digest));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_t.Root.IngestDir));
    }

    [Fact]
    public void NeverTwoWritersForOneDigestWhileIngestsComeAndGo()
    {
        // Small blobs and many rounds make commits (which unlink the lock file) race with lockers.
        // Holders are counted per digest: a thread that finished one blob may rightly write the next
        // one while a slower thread still holds a writer for the previous digest.
        var blobs = Enumerable.Range(0, 30).Select(i => TempStore.RandomBytes(100 + i, 100 + i)).ToList();
        var holders = new int[blobs.Count];
        int maxHolders = 0;
        void Pull()
        {
            for (int i = 0; i < blobs.Count; i++)
            {
                var data = blobs[i];
                var digest = Digest.ComputeSha256(data);
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (!Store.Exists(digest) && DateTime.UtcNow < deadline)
                {
                    try
                    {
                        using var w = Store.OpenWriter(digest, data.Length);
                        int now = Interlocked.Increment(ref holders[i]);
                        InterlockedMax(ref maxHolders, now);
                        w.Write(data.AsSpan((int)w.Offset));
                        Interlocked.Decrement(ref holders[i]);
                        w.Commit();
                    }
                    catch (StoreBusyException)
                    {
                    }
                }
            }
        }
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(Pull)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(1, maxHolders);
        Assert.All(blobs, b => Assert.True(Store.Verify(Digest.ComputeSha256(b))));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_t.Root.IngestDir));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public void RepairKeepsPartialsAndRemovesWhatCannotBeValid()
    {
        var data = TempStore.RandomBytes(1000, 20);
        var partial = Digest.ComputeSha256(data);
        var committed = Digest.ComputeSha256(TempStore.RandomBytes(10, 21));
        Store.Put(committed, TempStore.RandomBytes(10, 21));

        // A writer killed mid-download leaves its directory, metadata, data and an empty lock file.
        var partialDir = KilledWriter(partial, data.AsSpan(0, 400), data.Length);
        File.WriteAllText(AtomicFile.TempPathFor(Path.Combine(partialDir, "total")), "10");
        // Killed between the rename into blobs/ and removing the ingest directory.
        KilledWriter(committed, [], 10);
        // Killed right after creating the directory.
        var empty = Digest.ComputeSha256("nothing yet"u8);
        Directory.CreateDirectory(_t.Root.IngestPath(empty));
        Directory.CreateDirectory(Path.Combine(_t.Root.IngestDir, "not-a-digest"));
        var sha256Dir = _t.Root.BlobAlgorithmDir("sha256");
        File.WriteAllText(Path.Combine(sha256Dir, "ABCDEF"), "bad name");
        File.WriteAllText(Path.Combine(sha256Dir, committed.Encoded + AtomicFile.TempMarker + "1-2"), "temp");
        Directory.CreateDirectory(Path.Combine(_t.Root.BlobsDir, "md5"));

        var report = Store.Repair();

        Assert.Equal(1, report.PartialIngestsKept);
        Assert.Equal(3, report.DeadIngestsRemoved);
        Assert.Equal(2, report.InvalidBlobsRemoved);
        Assert.Equal(2, report.TempFilesRemoved);
        Assert.Equal([committed], Store.List());
        Assert.Equal(["data", "lock", "ref", "startedat", "total"],
            Directory.EnumerateFiles(partialDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var status = Assert.Single(Store.ListIngests());
        Assert.Equal(new IngestStatus(partial, 400, 1000, status.StartedAt, status.UpdatedAt, Active: false), status);

        using var w = Store.OpenWriter(partial, data.Length);
        Assert.Equal(400, w.Offset);
        w.Write(data.AsSpan(400));
        w.Commit();
        Assert.True(Store.Verify(partial));
    }

    [Fact]
    public void RepairLeavesIngestsHeldByALiveWriterAlone()
    {
        var digest = Digest.ComputeSha256("busy"u8);
        using var w = Store.OpenWriter(digest, 4);
        var report = Store.Repair();
        Assert.Equal(1, report.ActiveIngestsSkipped);
        Assert.True(Directory.Exists(_t.Root.IngestPath(digest)));
        w.Write("busy"u8);
        w.Commit();
    }

    /// <summary>
    /// A real kill -9: a child process (util-linux flock, which uses the same flock(2) lock) holds an
    /// ingest lock and is killed. The kernel must release the lock so the ingest can be resumed.
    /// </summary>
    [Fact]
    public void LockOfAKilledProcessIsReleased()
    {
        const string flock = "/usr/bin/flock";
        if (!File.Exists(flock))
        {
            Assert.Fail($"{flock} (util-linux) is needed to hold a lock from a child process");
        }
        var data = TempStore.RandomBytes(200, 22);
        var digest = Digest.ComputeSha256(data);
        var dir = KilledWriter(digest, data.AsSpan(0, 50), data.Length);
        var lockPath = Path.Combine(dir, "lock");

        using var child = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(flock, [lockPath, "sleep", "60"])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!FileLock.IsHeldExclusively(lockPath) && DateTime.UtcNow < deadline)
                Thread.Sleep(10);
            Assert.True(FileLock.IsHeldExclusively(lockPath), "child never took the lock");
            Assert.Throws<StoreBusyException>(() => Store.OpenWriter(digest, data.Length));
            Assert.Equal(1, Store.Repair().ActiveIngestsSkipped);
        }
        finally
        {
            child.Kill(entireProcessTree: true); // SIGKILL
            child.WaitForExit(10_000);
        }

        using var w = Store.OpenWriter(digest, data.Length);
        Assert.Equal(50, w.Offset);
        w.Write(data.AsSpan(50));
        w.Commit();
        Assert.True(Store.Verify(digest));
    }

    /// <summary>Lays out an ingest exactly as a writer killed after writing <paramref name="written"/> leaves it.</summary>
    private string KilledWriter(Digest digest, ReadOnlySpan<byte> written, long total)
    {
        var dir = _t.Root.IngestPath(digest);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "startedat"), DateTimeOffset.UtcNow.ToString("O"));
        File.WriteAllText(Path.Combine(dir, "ref"), digest.ToString());
        File.WriteAllText(Path.Combine(dir, "total"), total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllBytes(Path.Combine(dir, "lock"), []);
        if (written.Length > 0)
            File.WriteAllBytes(Path.Combine(dir, "data"), written.ToArray());
        return dir;
    }
}
