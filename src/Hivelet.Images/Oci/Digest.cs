using System.Security.Cryptography;
using Hivelet.Errors;

namespace Hivelet.Images.Oci;

/// <summary>
/// A content digest "algorithm:hex". Parsing validates strictly (lowercase hex of the right length)
/// because digests become file names in the store (CVE-2024-3727 was a digest used as a path).
/// </summary>
public readonly record struct Digest
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    private Digest(string algorithm, string encoded)
    {
        Algorithm = algorithm;
        Encoded = encoded;
    }

    public string Algorithm { get; }
    public string Encoded { get; }

    public bool IsEmpty => Algorithm is null;

    public override string ToString() => IsEmpty ? "" : $"{Algorithm}:{Encoded}";

    /// <summary>First 12 hex characters, as Docker shows image IDs and layers.</summary>
    public string Short => Encoded.Length > 12 ? Encoded[..12] : Encoded;

    public static Digest Parse(string value)
    {
        if (TryParse(value, out var d, out var error))
            return d;
        throw new InvalidInputException(error!);
    }

    public static bool TryParse(string? value, out Digest digest) => TryParse(value, out digest, out _);

    public static bool TryParse(string? value, out Digest digest, out string? error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "empty digest";
            return false;
        }
        int colon = value.IndexOf(':');
        if (colon <= 0)
        {
            error = $"invalid digest \"{value}\": expected algorithm:hex";
            return false;
        }
        var alg = value[..colon];
        var hex = value[(colon + 1)..];
        int want = alg switch { Sha256 => 64, Sha512 => 128, _ => 0 };
        if (want == 0)
        {
            error = $"unsupported digest algorithm \"{alg}\" in \"{value}\"";
            return false;
        }
        if (hex.Length != want || !IsLowerHex(hex))
        {
            error = $"invalid digest \"{value}\": {alg} needs {want} lowercase hex characters";
            return false;
        }
        digest = new Digest(alg, hex);
        error = null;
        return true;
    }

    public static Digest FromSha256Hash(ReadOnlySpan<byte> hash) =>
        new(Sha256, Convert.ToHexStringLower(hash));

    public static Digest ComputeSha256(ReadOnlySpan<byte> content) =>
        FromSha256Hash(SHA256.HashData(content));

    /// <summary>An incremental hasher for this digest's algorithm.</summary>
    public IncrementalHash CreateHasher() => CreateHasher(Algorithm);

    public static IncrementalHash CreateHasher(string algorithm) => algorithm switch
    {
        Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new InvalidInputException($"unsupported digest algorithm \"{algorithm}\""),
    };

    public Digest FromHasher(IncrementalHash hasher) =>
        new(Algorithm, Convert.ToHexStringLower(hasher.GetHashAndReset()));

    public bool Matches(ReadOnlySpan<byte> content)
    {
        using var h = CreateHasher();
        h.AppendData(content);
        return FromHasher(h) == this;
    }

    private static bool IsLowerHex(string s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
                return false;
        }
        return true;
    }
}
