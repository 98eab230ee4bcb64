using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Hivelet.Errors;
using OciDigest = Hivelet.Images.Oci.Digest;

namespace Hivelet.Images.References;

// Docker's reference grammar and normalisation (distribution/reference normalize.go and
// reference.go), re-implemented without regular expressions:
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain "/"] path-component ("/" path-component)*
public sealed partial record ImageReference
{
    public const string DefaultTag = "latest";
    public const string OfficialRepositoryPrefix = "library/";
    public const int MaxNameLength = 255;
    public const int MaxTagLength = 128;

    private const string LegacyDockerHubDomain = "index.docker.io";
    private const string ErrorPrefix = "invalid reference format: ";

    /// <summary>
    /// What to ask the registry for in <c>/v2/&lt;name&gt;/manifests/&lt;ref&gt;</c>. When both a tag
    /// and a digest were given, the digest wins (Docker's ParseDockerRef drops the tag); the tag is
    /// kept only for display.
    /// </summary>
    public string ManifestReference => Digest?.ToString() ?? Tag ?? DefaultTag;

    /// <summary>True when the reference names immutable content (a digest), whatever the tag says.</summary>
    public bool IsPinned => Digest is not null;

    /// <summary>The name as Docker prints it: "busybox", "lab/app", "127.0.0.1:5000/x".</summary>
    public string FamiliarName
    {
        get
        {
            if (Domain != DockerHubDomain)
                return Name;
            if (Repository.StartsWith(OfficialRepositoryPrefix, StringComparison.Ordinal))
            {
                // Only single-level official names are shortened: "library/a/b" stays as is.
                var rest = Repository[OfficialRepositoryPrefix.Length..];
                if (!rest.Contains('/', StringComparison.Ordinal))
                    return rest;
            }
            return Repository;
        }
    }

    /// <summary>"busybox:latest", "lab/app:1", "127.0.0.1:5000/x:y@sha256:…".</summary>
    public string FamiliarString() =>
        FamiliarName + (Tag is null ? "" : ":" + Tag) + (Digest is { } d ? "@" + d : "");

    /// <summary>This reference with tag "latest" when it has neither tag nor digest.</summary>
    public ImageReference WithDefaultTag() =>
        Tag is null && Digest is null ? this with { Tag = DefaultTag } : this;

    /// <summary>
    /// Parses and normalises a reference as <c>docker pull</c> does: "busybox" becomes
    /// "docker.io/library/busybox:latest". With <paramref name="addDefaultTag"/> false a reference
    /// without tag or digest keeps both null (for commands where "no tag" means something).
    /// </summary>
    public static ImageReference Parse(string value, bool addDefaultTag = true)
    {
        if (TryParse(value, addDefaultTag, out var reference, out var error))
            return reference;
        throw new InvalidInputException(error);
    }

    public static bool TryParse(string? value, [NotNullWhen(true)] out ImageReference? reference) =>
        TryParse(value, addDefaultTag: true, out reference, out _);

    public static bool TryParse(
        string? value,
        bool addDefaultTag,
        [NotNullWhen(true)] out ImageReference? reference,
        [NotNullWhen(false)] out string? error)
    {
        reference = null;
        error = Validate(value, out var domain, out var repository, out var tag, out var digest);
        if (error is not null)
            return false;
        reference = new ImageReference { Domain = domain!, Repository = repository!, Tag = tag, Digest = digest };
        if (addDefaultTag)
            reference = reference.WithDefaultTag();
        return true;
    }

    private static string? Validate(
        string? value, out string? domain, out string? repository, out string? tag, out OciDigest? digest)
    {
        domain = repository = tag = null;
        digest = null;
        if (string.IsNullOrEmpty(value))
            return ErrorPrefix + "repository name must have at least one component";

        // A bare image ID would otherwise parse as a Docker Hub repository of that name.
        if (value.Length == 64 && IsLowerHex(value))
            return $"invalid repository name ({value}), cannot specify 64-byte hexadecimal strings";

        var nameAndTag = value;
        int at = value.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            nameAndTag = value[..at];
            if (!OciDigest.TryParse(value[(at + 1)..], out var d, out var digestError))
                return Fail(value, digestError ?? "invalid digest");
            digest = d;
        }

        int slash = nameAndTag.IndexOf('/', StringComparison.Ordinal);
        string remainder;
        if (slash < 0 || !LooksLikeDomain(nameAndTag[..slash]))
        {
            domain = DockerHubDomain;
            remainder = nameAndTag;
        }
        else
        {
            domain = nameAndTag[..slash];
            remainder = nameAndTag[(slash + 1)..];
            var domainError = CheckDomain(domain);
            if (domainError is not null)
                return Fail(value, domainError);
            if (domain == LegacyDockerHubDomain)
                domain = DockerHubDomain;
        }

        // The path cannot contain ':', so the first one left is the tag separator; the colon of a
        // "host:port" was consumed with the domain above.
        int colon = remainder.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            tag = remainder[(colon + 1)..];
            remainder = remainder[..colon];
            if (!IsValidTag(tag))
                return Fail(value, $"invalid tag \"{tag}\" (want [A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MaxTagLength - 1}}})");
        }

        if (domain == DockerHubDomain && !remainder.Contains('/', StringComparison.Ordinal))
            remainder = OfficialRepositoryPrefix + remainder;

        if (remainder.ToLowerInvariant() != remainder)
            return $"{ErrorPrefix}repository name ({remainder}) must be lowercase";

        var pathError = CheckPath(remainder);
        if (pathError is not null)
            return Fail(value, pathError);

        // distribution 2.8 (the Debian registry) counts the domain too; newer code only the path.
        int nameLength = domain.Length + 1 + remainder.Length;
        if (nameLength > MaxNameLength)
            return $"{ErrorPrefix}repository name must not be more than {MaxNameLength} characters " +
                   $"({domain}/{remainder} has {nameLength})";

        repository = remainder;
        return null;
    }

    private static string Fail(string value, string detail) => $"{ErrorPrefix}\"{value}\": {detail}";

    /// <summary>Docker's rule: the first component is a registry if it could not be a Hub user.</summary>
    private static bool LooksLikeDomain(string first) =>
        first == "localhost" ||
        first.Contains('.', StringComparison.Ordinal) ||
        first.Contains(':', StringComparison.Ordinal) ||
        first.ToLowerInvariant() != first;

    private static string? CheckDomain(string domain)
    {
        string? host = domain;
        string? port = null;
        if (domain.StartsWith('['))
        {
            int close = domain.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
                return $"unterminated IPv6 address in domain \"{domain}\"";
            var address = domain[1..close];
            if (address.Length == 0 || !address.All(c => char.IsAsciiHexDigit(c) || c == ':'))
                return $"invalid IPv6 address in domain \"{domain}\"";
            var after = domain[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                    return $"invalid domain \"{domain}\"";
                port = after[1..];
            }
            host = null;
        }
        else
        {
            int colon = domain.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                host = domain[..colon];
                port = domain[(colon + 1)..];
            }
        }

        if (host is not null)
        {
            if (host.Length == 0)
                return $"empty host in domain \"{domain}\"";
            foreach (var component in host.Split('.'))
            {
                if (!IsDomainComponent(component))
                    return $"invalid domain \"{domain}\"";
            }
        }

        if (port is not null && !IsPort(port))
            return $"invalid port \"{port}\" in domain \"{domain}\"";
        return null;
    }

    private static bool IsDomainComponent(string s)
    {
        if (s.Length == 0 || !char.IsAsciiLetterOrDigit(s[0]) || !char.IsAsciiLetterOrDigit(s[^1]))
            return false;
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                return false;
        }
        return true;
    }

    // Docker accepts any digit run; a port outside 1-65535 can only fail later with a worse message.
    private static bool IsPort(string s) =>
        s.Length is > 0 and <= 5 && s.All(char.IsAsciiDigit) &&
        int.Parse(s, CultureInfo.InvariantCulture) is > 0 and <= 65535;

    private static string? CheckPath(string path)
    {
        foreach (var component in path.Split('/'))
        {
            if (component.Length == 0)
                return "empty path component";
            if (!IsPathComponent(component))
                return $"invalid path component \"{component}\"";
        }
        return null;
    }

    /// <summary>[a-z0-9]+ ( ( [_.] | __ | [-]+ ) [a-z0-9]+ )*</summary>
    private static bool IsPathComponent(string s)
    {
        int i = 0;
        while (true)
        {
            int start = i;
            while (i < s.Length && IsLowerAlnum(s[i]))
                i++;
            if (i == start)
                return false;
            if (i == s.Length)
                return true;

            int sepStart = i;
            char c = s[i];
            if (c == '.')
            {
                i++;
            }
            else if (c == '_')
            {
                i++;
                if (i < s.Length && s[i] == '_')
                    i++;
            }
            else if (c == '-')
            {
                while (i < s.Length && s[i] == '-')
                    i++;
            }
            if (i == sepStart)
                return false;
        }
    }

    private static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > MaxTagLength || !IsWordChar(tag[0]))
            return false;
        foreach (var c in tag)
        {
            if (!IsWordChar(c) && c != '.' && c != '-')
                return false;
        }
        return true;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool IsLowerAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    private static bool IsLowerHex(string s) => s.All(c => c is (>= 'a' and <= 'f') or (>= '0' and <= '9'));
}
