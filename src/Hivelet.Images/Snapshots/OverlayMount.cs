using System.Text;
using Hivelet.Errors;
using Hivelet.Interop;

namespace Hivelet.Images.Snapshots;

/// <summary>
/// Builds and performs overlay mounts. Legacy mount(2) data must fit in one page (4096 bytes with the
/// terminating NUL), so lower layers are named by short relative links ("l/abcd1234", 11 bytes each
/// with the separator) and the mount runs on a worker whose working directory is the snapshot root.
/// That bounds a chain at <see cref="MaxDepth"/> layers, below the kernel's own 500 (OVL_MAX_STACK)
/// and above Docker's 125.
/// </summary>
internal static class OverlayMount
{
    /// <summary>The deepest chain of committed layers that can sit below one overlay mount.</summary>
    public const int MaxDepth = 300;

    public const int PageLimit = 4095;

    private const string IndexParameter = "/sys/module/overlay/parameters/index";
    private const string ModuleDirectory = "/sys/module/overlay";

    /// <summary>
    /// "lowerdir=l/a:l/b,upperdir=..,workdir=..[,index=off]". Lowers are nearest first (the kernel
    /// stacks from the rightmost up). Without upper/work the mount is read-only.
    /// </summary>
    public static string Options(IReadOnlyList<string> lowers, string? upper, string? work, bool indexOff)
    {
        var sb = new StringBuilder("lowerdir=");
        sb.AppendJoin(':', lowers);
        if (upper is not null)
            sb.Append(",upperdir=").Append(upper).Append(",workdir=").Append(work);
        // With index on, an upper may not be reused over different lowers and mounts can fail with ESTALE.
        if (indexOff)
            sb.Append(",index=off");
        return sb.ToString();
    }

    /// <summary>
    /// The options <see cref="Mount"/> tries first: index=off unless the module is known to lack it, and
    /// with <paramref name="volatile"/> overlay's `volatile` (Linux 5.10): no sync of the upper file system
    /// on syncfs or unmount, for a layer that is deleted after its one use.
    /// </summary>
    public static string PreferredOptions(IReadOnlyList<string> lowers, string? upper, string? work, bool @volatile = false) =>
        Options(lowers, upper, work, File.Exists(IndexParameter) || !Directory.Exists(ModuleDirectory)) + (@volatile ? ",volatile" : "");

    /// <summary>
    /// Mounts an overlay on <paramref name="target"/> from the calling thread, whose working directory
    /// must be the snapshot root (relative paths in the options).
    /// </summary>
    /// <returns>Whether the mount is volatile (asked for, and the kernel and the page had room for it).</returns>
    public static bool Mount(string target, IReadOnlyList<string> lowers, string? upper, string? work, string subject,
        bool @volatile = false)
    {
        if (lowers.Count > MaxDepth)
            throw new InvalidInputException($"{subject}: chain of {lowers.Count} layers is deeper than the overlay driver's maximum of {MaxDepth}");
        bool unknown = !File.Exists(IndexParameter) && !Directory.Exists(ModuleDirectory);
        var options = PreferredOptions(lowers, upper, work, @volatile);
        if (@volatile && Encoding.UTF8.GetByteCount(options) > PageLimit)
            return Mount(target, lowers, upper, work, subject); // the deepest chains: no room left for it
        if (Encoding.UTF8.GetByteCount(options) > PageLimit)
            throw new InvalidInputException($"{subject}: overlay mount options of {options.Length} bytes exceed one page ({lowers.Count} layers)");
        try
        {
            Sys.Mount("overlay", target, "overlay", 0, options);
            return @volatile;
        }
        catch (ErrnoException e) when (e.Errno == Errnos.EINVAL && @volatile)
        {
            // A kernel before 5.10: the layer is synced like any other.
            return Mount(target, lowers, upper, work, subject);
        }
        catch (ErrnoException e) when (e.Errno == Errnos.EINVAL && unknown)
        {
            // The module was not loaded, so we could not tell whether it knows "index"; retry without it.
            Sys.Mount("overlay", target, "overlay", 0, Options(lowers, upper, work, indexOff: false));
            return false;
        }
    }

}
