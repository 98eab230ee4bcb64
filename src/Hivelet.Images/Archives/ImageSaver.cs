using System.Diagnostics;
using Hivelet.Errors;
using Hivelet.Images.Content;
using Hivelet.Images.Oci;
using Hivelet.Images.References;
using Hivelet.Interop;
using Hivelet.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Archives;

/// <summary>
/// `save`: finds the images the arguments name (name[:tag], name@digest, or an ID like Docker) and
/// writes them into one archive. A name gives the image that tag in the archive; an ID or a digest
/// gives it none (as `docker save &lt;id&gt;` does). Images named twice are written once with all their tags.
/// </summary>
public sealed class ImageSaver
{
    private readonly IContentStore _content;
    private readonly ImageStore _images;
    private readonly StoreLock _lock;
    private readonly ILogger _logger;

    public ImageSaver(IContentStore content, ImageStore images, StoreLock storeLock, ILogger? logger = null)
    {
        _content = content;
        _images = images;
        _lock = storeLock;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The images and tags <paramref name="arguments"/> name, in argument order.</summary>
    public IReadOnlyList<ArchiveImage> Resolve(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (arguments.Count == 0)
            throw new InvalidInputException("save: no image given");
        var order = new List<Digest>();
        var byManifest = new Dictionary<Digest, (Descriptor Manifest, ImageManifest Parsed, List<ImageReference> Tags)>();
        foreach (var argument in arguments)
        {
            IReadOnlyList<ImageRecord> records;
            try
            {
                records = ImageLookup.Find(_images, argument);
            }
            catch (HiveletException e)
            {
                throw new HiveletException($"save {argument}", e);
            }
            var tag = TagOf(argument, records);
            var record = records[0];
            if (!byManifest.TryGetValue(record.ManifestDigest, out var image))
            {
                image = Read(record);
                byManifest[record.ManifestDigest] = image;
                order.Add(record.ManifestDigest);
            }
            if (tag is not null && !image.Tags.Contains(tag))
                image.Tags.Add(tag);
        }
        return order.Select(d => new ArchiveImage(byManifest[d].Manifest, byManifest[d].Parsed, byManifest[d].Tags)).ToList();
    }

    /// <summary>Writes the archive to <paramref name="output"/> (e.g. stdout).</summary>
    public int Save(IReadOnlyList<string> arguments, Stream output, string archiveName, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        // The lease keeps a concurrent `image prune` from deleting blobs while they are being copied.
        using var lease = _lock.AcquireLease(StoreLock.DefaultLeaseWait);
        var images = Resolve(arguments);
        try
        {
            new ImageArchiveWriter(_content, _logger).Write(output, images, ct);
        }
        catch (HiveletException e)
        {
            throw new HiveletException($"save to {archiveName}", e);
        }
        ArchiveLog.SaveDone(_logger, images.Count, archiveName, watch.ElapsedMilliseconds);
        return images.Count;
    }

    /// <summary>
    /// Writes the archive to a temp file beside <paramref name="path"/> and renames it into place at
    /// the end, so a killed save never leaves a half archive under the final name.
    /// </summary>
    public int SaveToFile(IReadOnlyList<string> arguments, string path, CancellationToken ct)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        var temp = AtomicFile.TempPathFor(full);
        try
        {
            int count;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                count = Save(arguments, file, path, ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            Sys.FsyncDirectory(directory);
            return count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HiveletException($"save to {path}: {e.Message}");
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>The tag an argument gives its image: the name it was found by, when that name is tagged.</summary>
    private static ImageReference? TagOf(string argument, IReadOnlyList<ImageRecord> records)
    {
        if (!ImageReference.TryParse(argument, out var reference) || reference.Digest is not null)
            return null;
        var name = reference.WithDefaultTag().ToString();
        return records.Any(r => r.Name == name) ? reference.WithDefaultTag() : null;
    }

    private (Descriptor, ImageManifest, List<ImageReference>) Read(ImageRecord record)
    {
        var image = StoredImage.Load(record, _content);
        var bytes = StoredImage.ReadAll(_content, record.ManifestDigest, ManifestParser.MaxDocumentSize);
        var mediaType = ManifestParser.Parse(bytes, null).MediaType;
        var descriptor = new Descriptor { MediaType = mediaType, Digest = record.ManifestDigest.ToString(), Size = bytes.Length };
        return (descriptor, image.Manifest, []);
    }
}
