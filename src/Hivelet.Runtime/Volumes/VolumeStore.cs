using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Hivelet.Errors;
using Hivelet.Interop;
using Hivelet.IO;

namespace Hivelet.Runtime.Volumes;

/// <summary>A named volume as `docker volume inspect` shows it.</summary>
public sealed class Volume
{
    [JsonPropertyName("CreatedAt")] public DateTimeOffset CreatedAt { get; set; }
    [JsonPropertyName("Driver")] public string Driver { get; set; } = "local";
    [JsonPropertyName("Labels")] public Dictionary<string, string> Labels { get; set; } = [];
    [JsonPropertyName("Mountpoint")] public string Mountpoint { get; set; } = "";
    [JsonPropertyName("Name")] public string Name { get; set; } = "";
    [JsonPropertyName("Options")] public Dictionary<string, string> Options { get; set; } = [];
    [JsonPropertyName("Scope")] public string Scope { get; set; } = "local";

    /// <summary>Docker 23+ marks volumes made for an image's VOLUME or `-v /path` with this label.</summary>
    public const string AnonymousLabel = "com.docker.volume.anonymous";

    [JsonIgnore] public bool IsAnonymous => Labels.ContainsKey(AnonymousLabel);
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(Volume))]
[JsonSerializable(typeof(List<Volume>))]
public sealed partial class VolumeJsonContext : JsonSerializerContext;

/// <summary>
/// Local volumes: &lt;root&gt;/volumes/&lt;name&gt;/{_data/, volume.json}. A volume appears by one rename of a
/// fully built temp directory and disappears by one rename to a trash name, so a kill -9 leaves either
/// nothing, a whole volume, or a ".tmp-"/".trash-" directory that the next <see cref="List"/> removes.
/// </summary>
public sealed partial class VolumeStore
{
    private const string TrashMarker = ".trash-";
    private readonly string _dir;

    public VolumeStore(string storeRoot)
    {
        _dir = Path.Combine(storeRoot, "volumes");
    }

    public string Directory => _dir;

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex NamePattern();

    /// <summary>True for a name Docker accepts for a local volume.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    public static void ValidateName(string name)
    {
        if (!IsValidName(name))
            throw new InvalidInputException(
                $"create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
    }

    /// <summary>The directory the container sees: &lt;root&gt;/volumes/&lt;name&gt;/_data.</summary>
    public string DataPath(string name) => Path.Combine(_dir, name, "_data");

    /// <summary>Creates a volume, or returns the existing one of that name (Docker's create is idempotent).</summary>
    public Volume Create(string name, IReadOnlyDictionary<string, string>? labels = null)
    {
        ValidateName(name);
        var existing = Get(name);
        if (existing != null)
            return existing;
        System.IO.Directory.CreateDirectory(_dir);
        var volume = new Volume
        {
            Name = name,
            CreatedAt = DateTimeOffset.UtcNow,
            Mountpoint = DataPath(name),
            Labels = labels is null ? [] : new Dictionary<string, string>(labels),
        };
        var tmp = Path.Combine(_dir, $"{AtomicFile.TempMarker}{name}-{Guid.NewGuid():N}");
        try
        {
            System.IO.Directory.CreateDirectory(Path.Combine(tmp, "_data"));
            // Docker's local driver makes _data 0755 owned by root: containers may chown it.
            Sys.Chmod(Path.Combine(tmp, "_data"), 0x1ed); // 0755
            AtomicFile.WriteAllBytes(Path.Combine(tmp, "volume.json"),
                JsonSerializer.SerializeToUtf8Bytes(volume, VolumeJsonContext.Default.Volume));
            int err = Sys.TryRename(tmp, Path.Combine(_dir, name), Sys.RENAME_NOREPLACE);
            if (err == Errnos.EEXIST)
            {
                // Another create won the race: theirs stands.
                System.IO.Directory.Delete(tmp, recursive: true);
                return Get(name) ?? throw new HiveletException($"create volume {name}: it vanished while being created");
            }
            if (err != 0)
                throw new ErrnoException("rename", Path.Combine(_dir, name), err);
            Sys.FsyncDirectory(_dir);
        }
        catch
        {
            if (System.IO.Directory.Exists(tmp))
                System.IO.Directory.Delete(tmp, recursive: true);
            throw;
        }
        return volume;
    }

    /// <summary>A volume for an image's VOLUME or a bare `-v /path`: a random 64-hex name, labelled anonymous.</summary>
    public Volume CreateAnonymous() =>
        Create(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
            new Dictionary<string, string> { [Volume.AnonymousLabel] = "" });

    /// <summary>The volume, or null when there is none of that name.</summary>
    public Volume? Get(string name)
    {
        if (!IsValidName(name))
            return null;
        var file = Path.Combine(_dir, name, "volume.json");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            var v = JsonSerializer.Deserialize(bytes, VolumeJsonContext.Default.Volume)
                ?? throw new JsonException("null document");
            v.Name = name;
            v.Mountpoint = DataPath(name);
            return v;
        }
        catch (JsonException e)
        {
            throw new HiveletException($"read volume {name}: {file} is corrupt: {e.Message}");
        }
    }

    /// <summary>Every volume, by name; removes leftovers of interrupted creates and removes.</summary>
    public List<Volume> List()
    {
        var result = new List<Volume>();
        if (!System.IO.Directory.Exists(_dir))
            return result;
        foreach (var path in System.IO.Directory.EnumerateDirectories(_dir))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith(AtomicFile.TempMarker, StringComparison.Ordinal) || name.StartsWith(TrashMarker, StringComparison.Ordinal))
            {
                TryDeleteTree(path);
                continue;
            }
            var v = Get(name);
            if (v != null)
                result.Add(v);
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>
    /// Removes a volume and its data. <paramref name="usedBy"/> returns the ids of containers that use
    /// the volume; a volume in use is never removed (like Docker, not even with force). With
    /// <paramref name="force"/> a missing volume is not an error.
    /// </summary>
    public void Remove(string name, bool force, Func<string, IReadOnlyList<string>> usedBy)
    {
        var path = Path.Combine(_dir, name);
        if (!IsValidName(name) || !System.IO.Directory.Exists(path))
        {
            if (force)
                return;
            throw new NotFoundException($"remove volume {name}: no such volume");
        }
        var users = usedBy(name);
        if (users.Count > 0)
            throw new InvalidInputException($"remove volume {name}: volume is in use - [{string.Join(", ", users)}]");
        var trash = Path.Combine(_dir, $"{TrashMarker}{name}-{Guid.NewGuid():N}");
        int err = Sys.TryRename(path, trash, Sys.RENAME_NOREPLACE);
        if (err != 0)
            throw new ErrnoException("rename", path, err);
        Sys.FsyncDirectory(_dir);
        TryDeleteTree(trash);
    }

    private static void TryDeleteTree(string path)
    {
        try
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
