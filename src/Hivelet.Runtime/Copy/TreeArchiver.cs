using Hivelet.Errors;
using Hivelet.Images.Layers;
using Hivelet.Interop;

namespace Hivelet.Runtime.Copy;

/// <summary>
/// Writes a file or directory tree as a tar stream, walking with descriptors and O_NOFOLLOW so a
/// symlink inside the tree is archived as a symlink and never followed. Hard links within the tree
/// become link entries; sockets are skipped (tar cannot hold them).
/// </summary>
public sealed class TreeArchiver(TarWriter tar, (uint Uid, uint Gid)? owner)
{
    private readonly Dictionary<(uint, uint, ulong), string> _links = [];

    /// <param name="parent">Directory holding the source.</param>
    /// <param name="name">The source's name in it ("." = the directory itself).</param>
    /// <param name="rootName">Its name in the archive; "" = only its contents (a directory).</param>
    public void Add(SafeDirectoryHandle parent, string name, FileStatus status, string rootName)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (status.IsDirectory)
        {
            using var dir = name == "." ? Sys.OpenDirectoryAtSelf(parent) : OpenDir(parent, name);
            if (rootName.Length > 0)
                tar.WriteEntry(Entry(rootName + "/", TarEntryType.Directory, status), ReadOnlySpan<byte>.Empty);
            AddChildren(dir, rootName);
            return;
        }
        AddNonDirectory(parent, name, status, rootName);
    }

    private void AddChildren(SafeDirectoryHandle dir, string prefix)
    {
        foreach (var child in Sys.ReadDirectory(dir, prefix).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            int err = Sys.TryLStatAt(dir, child.Name, out var st);
            if (err == Errnos.ENOENT)
                continue; // removed while we walk
            if (err != 0)
                throw new ErrnoException("stat", Join(prefix, child.Name), err);
            var entryName = Join(prefix, child.Name);
            if (st.IsDirectory)
            {
                tar.WriteEntry(Entry(entryName + "/", TarEntryType.Directory, st), ReadOnlySpan<byte>.Empty);
                using var sub = OpenDir(dir, child.Name);
                AddChildren(sub, entryName);
            }
            else
            {
                AddNonDirectory(dir, child.Name, st, entryName);
            }
        }
    }

    private void AddNonDirectory(SafeDirectoryHandle parent, string name, FileStatus st, string entryName)
    {
        switch (st.Type)
        {
            case FileStatus.S_IFREG:
                if (st.LinkCount > 1)
                {
                    var key = (st.DeviceMajor, st.DeviceMinor, st.Inode);
                    if (_links.TryGetValue(key, out var first))
                    {
                        var link = Entry(entryName, TarEntryType.HardLink, st);
                        link.LinkName = first;
                        link.Size = 0;
                        tar.WriteEntry(link, ReadOnlySpan<byte>.Empty);
                        return;
                    }
                    _links[key] = entryName;
                }
                using (var file = Sys.OpenFileAtNoFollow(parent, name))
                using (var stream = new FileStream(file, FileAccess.Read, 1))
                {
                    var entry = Entry(entryName, TarEntryType.File, st);
                    entry.Size = (long)st.Size;
                    // A file that grows while it is read is cut at the size in the header.
                    tar.WriteEntry(entry, new LimitedStream(stream, entry.Size));
                }
                return;
            case FileStatus.S_IFLNK:
                var sl = Entry(entryName, TarEntryType.Symlink, st);
                sl.LinkName = Sys.ReadLinkAt(parent, name);
                tar.WriteEntry(sl, ReadOnlySpan<byte>.Empty);
                return;
            case FileStatus.S_IFCHR or FileStatus.S_IFBLK:
                var dev = Entry(entryName, st.Type == FileStatus.S_IFCHR ? TarEntryType.CharDevice : TarEntryType.BlockDevice, st);
                dev.DeviceMajor = st.RDevMajor;
                dev.DeviceMinor = st.RDevMinor;
                tar.WriteEntry(dev, ReadOnlySpan<byte>.Empty);
                return;
            case FileStatus.S_IFIFO:
                tar.WriteEntry(Entry(entryName, TarEntryType.Fifo, st), ReadOnlySpan<byte>.Empty);
                return;
            default:
                return; // sockets
        }
    }

    private TarEntry Entry(string name, TarEntryType type, FileStatus st) => new()
    {
        Name = name,
        Type = type,
        Mode = (int)st.Permissions,
        Uid = owner?.Uid ?? st.Uid,
        Gid = owner?.Gid ?? st.Gid,
        ModifiedTime = DateTimeOffset.FromUnixTimeSeconds(st.ModifySeconds).AddTicks(st.ModifyNanoseconds / 100),
    };

    private static SafeDirectoryHandle OpenDir(SafeDirectoryHandle parent, string name)
    {
        int err = Sys.TryOpenDirectoryAt(parent, name, out var dir);
        if (err != 0)
            throw new ErrnoException("open", name, err);
        return dir!;
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "/" + name;

    /// <summary>Reads at most <c>length</c> bytes and pads with zeros if the file shrank, so the tar stays well-formed.</summary>
    private sealed class LimitedStream(Stream inner, long size) : Stream
    {
        private long _left = size;
        private readonly long _size = size;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0)
                return 0;
            var span = buffer[..(int)Math.Min(buffer.Length, _left)];
            int n = inner.Read(span);
            if (n == 0)
            {
                span.Clear();
                n = span.Length;
            }
            _left -= n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _size;
        public override long Position { get => _size - _left; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
