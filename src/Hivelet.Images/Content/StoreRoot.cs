using System.Security.Cryptography;
using System.Text;
using Hivelet.Errors;
using Hivelet.Images.Oci;

namespace Hivelet.Images.Content;

/// <summary>
/// Every path under the state root (<c>--root</c>, default /var/lib/hivelet). Other areas take their
/// directories from here instead of joining strings, so the layout is written down in one place:
/// <code>
/// content/blobs/&lt;alg&gt;/&lt;hex&gt;            committed blobs, mode 0444
/// content/ingest/&lt;hex&gt;/{data,ref,total,startedat,lock}   partial downloads
/// content/lock                        store lock: pulls hold it shared (lease), GC exclusive
/// content/layer-sizes/&lt;alg&gt;/&lt;hex&gt;     unpacked size of a layer, by diff ID
/// images/&lt;sha256(name)&gt;.json         image records
/// snapshots/ tmp/ containers/ volumes/
/// </code>
/// </summary>
public sealed class StoreRoot
{
    public const string DefaultPath = "/var/lib/hivelet";

    public StoreRoot(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
            throw new InvalidInputException("state root: empty path");
        Root = System.IO.Path.GetFullPath(root);
    }

    public string Root { get; }

    public string ContentDir => Combine("content");
    public string BlobsDir => Combine("content", "blobs");
    public string IngestDir => Combine("content", "ingest");
    public string ContentLockFile => Combine("content", "lock");
    public string LayerSizesDir => Combine("content", "layer-sizes");
    public string ImagesDir => Combine("images");
    public string SnapshotsDir => Combine("snapshots");
    public string TmpDir => Combine("tmp");
    public string ContainersDir => Combine("containers");
    public string VolumesDir => Combine("volumes");

    public string BlobAlgorithmDir(string algorithm) => System.IO.Path.Combine(BlobsDir, algorithm);

    /// <summary>content/blobs/sha256/&lt;hex&gt;; the digest was validated when it was parsed.</summary>
    public string BlobPath(Digest digest) => System.IO.Path.Combine(BlobsDir, Checked(digest).Algorithm, digest.Encoded);

    /// <summary>
    /// content/ingest/&lt;hex&gt;: keyed by the digest alone (the hex length tells sha256 from sha512),
    /// so a retried pull of the same blob finds its partial data whatever reference it came from.
    /// </summary>
    public string IngestPath(Digest digest) => System.IO.Path.Combine(IngestDir, Checked(digest).Encoded);

    /// <summary>images/&lt;sha256 of the name&gt;.json: names hold '/', ':' and '@', a hash holds none.</summary>
    public string ImageRecordPath(string name) =>
        System.IO.Path.Combine(ImagesDir, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name))) + ".json");

    /// <summary>Creates the root (mode 0700, state is private) and the directories the store uses.</summary>
    public void EnsureCreated()
    {
        // Only a root we create gets 0700: chmod-ing an existing one could hit a shared directory
        // someone passed as --root (/tmp, a home directory).
        CreatePrivate(Root);
        foreach (var dir in new[] { ContentDir, BlobsDir, BlobAlgorithmDir(Digest.Sha256), IngestDir, ImagesDir, TmpDir })
            CreatePrivate(dir);
    }

    /// <summary>Creates <paramref name="directory"/> and missing parents with mode 0700.</summary>
    public static void CreatePrivate(string directory) => UnixModes.CreatePrivateDirectory(directory);

    private string Combine(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static Digest Checked(Digest digest) =>
        digest.IsEmpty ? throw new InvalidInputException("content store: empty digest") : digest;
}
