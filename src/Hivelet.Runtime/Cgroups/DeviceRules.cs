namespace Hivelet.Runtime.Cgroups;

/// <summary>Device-cgroup rule sets.</summary>
public static class DeviceRules
{
    /// <summary>
    /// Docker's device rules followed by the allows runc appends to every container (runtime.md C5):
    /// deny everything; allow zero, null, urandom, random, tty, console; deny fuse; then mknod of any
    /// char/block node, null, random, full, tty, zero, urandom, /dev/pts/*, ptmx and /dev/net/tun.
    /// </summary>
    public static readonly IReadOnlyList<DeviceRule> DockerDefault =
    [
        new(false, 'a', -1, -1, "rwm"),
        new(true, 'c', 1, 5, "rwm"),
        new(true, 'c', 1, 3, "rwm"),
        new(true, 'c', 1, 9, "rwm"),
        new(true, 'c', 1, 8, "rwm"),
        new(true, 'c', 5, 0, "rwm"),
        new(true, 'c', 5, 1, "rwm"),
        new(false, 'c', 10, 229, "rwm"),
        new(true, 'c', -1, -1, "m"),
        new(true, 'b', -1, -1, "m"),
        new(true, 'c', 1, 3, "rwm"),
        new(true, 'c', 1, 8, "rwm"),
        new(true, 'c', 1, 7, "rwm"),
        new(true, 'c', 5, 0, "rwm"),
        new(true, 'c', 1, 5, "rwm"),
        new(true, 'c', 1, 9, "rwm"),
        new(true, 'c', 136, -1, "rwm"),
        new(true, 'c', 5, 2, "rwm"),
        new(true, 'c', 10, 200, "rwm"),
    ];

    /// <summary>--privileged: every device.</summary>
    public static readonly IReadOnlyList<DeviceRule> AllowAll = [new(true, 'a', -1, -1, "rwm")];

    /// <summary>True when the rules end in an unconditional allow, so no restriction remains.</summary>
    public static bool IsAllowAll(IReadOnlyList<DeviceRule> rules) =>
        rules.Count > 0 && rules[^1] is { Allow: true, Type: 'a', Major: < 0, Minor: < 0 } last && HasAll(last.Access);

    internal static bool HasAll(string access) =>
        access.Contains('r', StringComparison.Ordinal) && access.Contains('w', StringComparison.Ordinal) && access.Contains('m', StringComparison.Ordinal);

    /// <summary>Throws for a rule the kernel would refuse, before anything is written.</summary>
    public static void Validate(DeviceRule rule)
    {
        if (rule.Type is not ('a' or 'c' or 'b'))
            throw new Hivelet.Errors.InvalidInputException($"invalid device rule type '{rule.Type}': must be a, c or b");
        if (rule.Access.Length == 0 || rule.Access.Any(c => c is not ('r' or 'w' or 'm')) || rule.Access.Distinct().Count() != rule.Access.Length)
            throw new Hivelet.Errors.InvalidInputException($"invalid device access \"{rule.Access}\": must be a combination of r, w and m");
        if (rule.Major < -1 || rule.Minor < -1 || rule.Major > int.MaxValue || rule.Minor > int.MaxValue)
            throw new Hivelet.Errors.InvalidInputException($"invalid device number {rule.Major}:{rule.Minor}");
    }
}
