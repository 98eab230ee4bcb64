using Hivelet.Errors;
using Hivelet.Images.References;

namespace Hivelet.Images.Content;

/// <summary>Finds images the way Docker's CLI accepts them: by name[:tag], name@digest, or (a prefix of) the ID.</summary>
public static class ImageLookup
{
    /// <summary>All records the argument names: one for a name, possibly several sharing an ID.</summary>
    public static IReadOnlyList<ImageRecord> Find(ImageStore images, string argument)
    {
        if (string.IsNullOrWhiteSpace(argument))
            throw new InvalidInputException("empty image name");
        var id = argument.StartsWith("sha256:", StringComparison.Ordinal) ? argument[7..] : argument;
        bool looksLikeId = id.Length is >= 1 and <= 64 && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
        if (ImageReference.TryParse(argument, out var reference))
        {
            var name = reference.Digest is null ? reference.WithDefaultTag().ToString() : reference.ToString();
            if (images.Get(name) is { } record)
                return [record];
            if (reference.Digest is { } digest)
            {
                // name@digest also matches an image pulled by tag whose registry digest is that one.
                var byDigest = images.List().Where(r =>
                    r.RepoDigests.Contains($"{reference.Name}@{digest}", StringComparer.Ordinal)).ToList();
                if (byDigest.Count > 0)
                    return byDigest;
            }
        }
        if (looksLikeId && (id.Length >= 4 || argument.StartsWith("sha256:", StringComparison.Ordinal)))
        {
            try
            {
                return images.FindByIdPrefix(id);
            }
            catch (NotFoundException)
            {
                // Fall through to Docker's wording below.
            }
        }
        throw new NotFoundException($"No such image: {argument}");
    }

    /// <summary>Exactly one image ID: the records returned all share it.</summary>
    public static ImageRecord FindOne(ImageStore images, string argument) => Find(images, argument)[0];
}
