using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hivelet.Errors;
using Hivelet.Interop;

namespace Hivelet.Runtime.Security;

public sealed partial class SeccompProfile
{
    /// <summary>
    /// Reads a profile in Docker's JSON format (what <c>--security-opt seccomp=FILE.json</c> names).
    /// Malformed JSON, an unknown action or operator, or a missing field is an
    /// <see cref="InvalidInputException"/> naming <paramref name="source"/> and the field.
    /// </summary>
    public static SeccompProfile Parse(ReadOnlySpan<byte> json, string source)
    {
        SeccompJsonProfile? doc;
        try
        {
            doc = JsonSerializer.Deserialize(json, SeccompJsonContext.Default.SeccompJsonProfile);
        }
        catch (JsonException e)
        {
            var where = string.IsNullOrEmpty(e.Path) ? "" : $"{e.Path}: ";
            throw Invalid(source, $"{where}{FirstLine(e.Message)}");
        }
        if (doc is null)
            throw Invalid(source, "the file holds null, not a profile");

        if (string.IsNullOrEmpty(doc.DefaultAction))
            throw Invalid(source, "defaultAction: missing");
        var defaultAction = ParseAction(doc.DefaultAction, doc.DefaultErrnoRet, source, "defaultAction");

        if (doc.Architectures is { Count: > 0 } && doc.ArchMap is { Count: > 0 })
            throw Invalid(source, "both architectures and archMap are given; use one");
        var archMap = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (entry, i) in (doc.ArchMap ?? []).Select((e, i) => (e, i)))
        {
            if (string.IsNullOrEmpty(entry.Architecture))
                throw Invalid(source, $"archMap[{i}].architecture: missing");
            archMap[entry.Architecture] = entry.SubArchitectures ?? [];
        }

        var rules = new List<SeccompRule>();
        var syscalls = doc.Syscalls ?? [];
        for (int i = 0; i < syscalls.Count; i++)
        {
            var call = syscalls[i] ?? throw Invalid(source, $"syscalls[{i}]: null");
            var field = $"syscalls[{i}]";
            if (!string.IsNullOrEmpty(call.Name) && call.Names is { Count: > 0 })
                throw Invalid(source, $"{field}: both name and names are given; use one");
            IReadOnlyList<string> names = !string.IsNullOrEmpty(call.Name) ? [call.Name] : call.Names ?? [];
            if (names.Count == 0)
                throw Invalid(source, $"{field}.names: missing");
            if (string.IsNullOrEmpty(call.Action))
                throw Invalid(source, $"{field}.action: missing");
            var action = ParseAction(call.Action, call.ErrnoRet, source, $"{field}.action");

            var args = new List<SeccompArg>();
            foreach (var (arg, j) in (call.Args ?? []).Select((a, j) => (a, j)))
            {
                var argField = $"{field}.args[{j}]";
                if (arg is null)
                    throw Invalid(source, $"{argField}: null");
                if (arg.Index > 5)
                    throw Invalid(source, $"{argField}.index: {arg.Index} is not an argument (0-5)");
                args.Add(new SeccompArg((int)arg.Index, arg.Value, arg.ValueTwo, ParseOp(arg.Op, source, $"{argField}.op")));
            }
            rules.Add(new SeccompRule(
                names,
                action,
                args,
                ParseCondition(call.Includes, source, $"{field}.includes"),
                ParseCondition(call.Excludes, source, $"{field}.excludes")));
        }
        return new SeccompProfile(defaultAction, doc.Architectures ?? [], archMap, rules, source);
    }

    private static SeccompAction ParseAction(string name, uint? errnoRet, string source, string field) => name switch
    {
        "SCMP_ACT_ALLOW" => SeccompAction.Allow,
        // runc's default errno for ERRNO and TRACE is EPERM.
        "SCMP_ACT_ERRNO" => new(SeccompActionKind.Errno, Check16(errnoRet ?? Errnos.EPERM, source, field)),
        "SCMP_ACT_TRACE" => new(SeccompActionKind.Trace, Check16(errnoRet ?? Errnos.EPERM, source, field)),
        // libseccomp's SCMP_ACT_KILL kills the thread, as the kernel's SECCOMP_RET_KILL does.
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => new(SeccompActionKind.KillThread),
        "SCMP_ACT_KILL_PROCESS" => new(SeccompActionKind.KillProcess),
        "SCMP_ACT_TRAP" => new(SeccompActionKind.Trap),
        "SCMP_ACT_LOG" => new(SeccompActionKind.Log),
        "SCMP_ACT_NOTIFY" => throw Invalid(source, $"{field}: SCMP_ACT_NOTIFY is unsupported (hivelet has no seccomp agent)"),
        _ => throw Invalid(source, $"{field}: unknown action \"{name}\""),
    };

    private static uint Check16(uint value, string source, string field) =>
        value <= 0xffff ? value : throw Invalid(source, $"{field}: errnoRet {value} does not fit in 16 bits");

    private static SeccompOp ParseOp(string? op, string source, string field) => op switch
    {
        "SCMP_CMP_NE" => SeccompOp.NotEqual,
        "SCMP_CMP_LT" => SeccompOp.LessThan,
        "SCMP_CMP_LE" => SeccompOp.LessOrEqual,
        "SCMP_CMP_EQ" => SeccompOp.Equal,
        "SCMP_CMP_GE" => SeccompOp.GreaterOrEqual,
        "SCMP_CMP_GT" => SeccompOp.GreaterThan,
        "SCMP_CMP_MASKED_EQ" => SeccompOp.MaskedEqual,
        null or "" => throw Invalid(source, $"{field}: missing"),
        _ => throw Invalid(source, $"{field}: unknown operator \"{op}\""),
    };

    private static SeccompFilterCondition ParseCondition(SeccompJsonFilter? filter, string source, string field)
    {
        if (filter is null)
            return SeccompFilterCondition.None;
        Version? minKernel = null;
        if (!string.IsNullOrEmpty(filter.MinKernel))
        {
            minKernel = ParseKernelVersion(filter.MinKernel)
                ?? throw Invalid(source, $"{field}.minKernel: \"{filter.MinKernel}\" is not a kernel version like 4.8");
        }
        var caps = (filter.Caps ?? []).Select(SeccompCapabilities.Parse).ToArray();
        return new SeccompFilterCondition(caps, filter.Arches ?? [], minKernel);
    }

    /// <summary>"5.10", "4.8.0" or "6.1.0-28-amd64" -> major.minor(.patch); null when it is not one.</summary>
    internal static Version? ParseKernelVersion(string text)
    {
        var parts = new int[3];
        int n = 0, i = 0;
        while (n < 3 && i < text.Length && char.IsAsciiDigit(text[i]))
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
                i++;
            if (!int.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out parts[n++]))
                return null;
            if (i < text.Length && text[i] == '.')
                i++;
            else
                break;
        }
        return n >= 2 ? new Version(parts[0], parts[1], parts[2]) : null;
    }

    private static InvalidInputException Invalid(string source, string detail) =>
        new($"seccomp profile {source}: {detail}");

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }
}

internal sealed class SeccompJsonProfile
{
    public string? DefaultAction { get; set; }
    public uint? DefaultErrnoRet { get; set; }
    public List<string>? Architectures { get; set; }
    public List<SeccompJsonArchMap>? ArchMap { get; set; }
    public List<SeccompJsonSyscall?>? Syscalls { get; set; }
}

internal sealed class SeccompJsonArchMap
{
    public string? Architecture { get; set; }
    public List<string>? SubArchitectures { get; set; }
}

internal sealed class SeccompJsonSyscall
{
    public string? Name { get; set; }
    public List<string>? Names { get; set; }
    public string? Action { get; set; }
    public uint? ErrnoRet { get; set; }
    public List<SeccompJsonArg?>? Args { get; set; }
    public SeccompJsonFilter? Includes { get; set; }
    public SeccompJsonFilter? Excludes { get; set; }
}

internal sealed class SeccompJsonArg
{
    public uint Index { get; set; }
    public ulong Value { get; set; }
    public ulong ValueTwo { get; set; }
    public string? Op { get; set; }
}

internal sealed class SeccompJsonFilter
{
    public List<string>? Caps { get; set; }
    public List<string>? Arches { get; set; }
    public string? MinKernel { get; set; }
}

// Go's encoding/json (what dockerd uses) matches names case-insensitively and ignores unknown fields
// ("comment", "flags", "listenerPath"); so does this.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(SeccompJsonProfile))]
internal sealed partial class SeccompJsonContext : JsonSerializerContext;
