using System.Globalization;
using System.Text.Json.Serialization;

namespace Hivelet.Runtime.Containers;

/// <summary>Docker's inspect State, computed from the record, BUNDLE/status and the health file.</summary>
public sealed class ContainerState
{
    /// <summary>created, running, restarting, exited, removing or dead.</summary>
    [JsonPropertyName("Status")] public string Status { get; set; } = "created";
    [JsonPropertyName("Running")] public bool Running { get; set; }
    [JsonPropertyName("Paused")] public bool Paused { get; set; }
    [JsonPropertyName("Restarting")] public bool Restarting { get; set; }
    [JsonPropertyName("OOMKilled")] public bool OOMKilled { get; set; }
    [JsonPropertyName("Dead")] public bool Dead { get; set; }
    [JsonPropertyName("Pid")] public int Pid { get; set; }
    [JsonPropertyName("ExitCode")] public int ExitCode { get; set; }
    [JsonPropertyName("Error")] public string Error { get; set; } = "";
    [JsonPropertyName("StartedAt")] public string StartedAt { get; set; } = ZeroTime;
    [JsonPropertyName("FinishedAt")] public string FinishedAt { get; set; } = ZeroTime;
    [JsonPropertyName("Health")] public HealthState? Health { get; set; }

    /// <summary>Docker prints Go's zero time for "never".</summary>
    public const string ZeroTime = "0001-01-01T00:00:00Z";

    [JsonIgnore] public DateTimeOffset? Started { get; set; }
    [JsonIgnore] public DateTimeOffset? Finished { get; set; }
    [JsonIgnore] public int RestartCount { get; set; }

    /// <summary>The state for a status file (null = never started) and an optional health file.</summary>
    public static ContainerState From(ContainerStatus? status, HealthState? health)
    {
        if (status is null)
            return new ContainerState { Health = health };
        var s = new ContainerState
        {
            Status = status.State switch
            {
                "starting" or "running" => "running",
                "restarting" => "restarting",
                _ => "exited",
            },
            Pid = status.State is "running" or "starting" ? status.Pid : 0,
            ExitCode = status.ExitCode,
            OOMKilled = status.OomKilled,
            Error = status.Error,
            Started = status.StartedAt,
            Finished = status.FinishedAt,
            StartedAt = status.StartedAt is { } a ? ContainerStatus.FormatTime(a) : ZeroTime,
            FinishedAt = status.FinishedAt is { } f ? ContainerStatus.FormatTime(f) : ZeroTime,
            RestartCount = status.RestartCount,
        };
        s.Running = s.Status is "running" or "restarting";
        s.Restarting = s.Status == "restarting";
        // Docker keeps the last health result only while the container runs.
        s.Health = s.Running ? health : null;
        if (!s.Running && status.StartedAt is null && status.Error.Length == 0)
            s.Status = "created";
        return s;
    }

    /// <summary>The STATUS column of `ps`: "Up 3 seconds (healthy)", "Exited (0) 2 minutes ago", "Created".</summary>
    public string Describe(DateTimeOffset now)
    {
        switch (Status)
        {
            case "running":
                var up = $"Up {HumanDuration(now - (Started ?? now))}";
                return Health is { Status: { Length: > 0 } h } && h != "none"
                    ? h == "starting" ? $"{up} (health: starting)" : $"{up} ({h})"
                    : up;
            case "restarting":
                return $"Restarting ({ExitCode.ToString(CultureInfo.InvariantCulture)}) {HumanDuration(now - (Finished ?? now))} ago";
            case "exited":
                return Finished is { } f
                    ? $"Exited ({ExitCode.ToString(CultureInfo.InvariantCulture)}) {HumanDuration(now - f)} ago"
                    : "Created";
            case "dead":
                return "Dead";
            default:
                return "Created";
        }
    }

    /// <summary>Docker's units.HumanDuration (go-units), so `ps` reads the same.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < 1)
            return "Less than a second";
        if (seconds == 1)
            return "1 second";
        if (seconds < 60)
            return $"{seconds} seconds";
        var minutes = (long)d.TotalMinutes;
        if (minutes == 1)
            return "About a minute";
        if (minutes < 60)
            return $"{minutes} minutes";
        var hours = (long)Math.Round(d.TotalHours, MidpointRounding.AwayFromZero);
        if (hours == 1)
            return "About an hour";
        if (hours < 48)
            return $"{hours} hours";
        if (hours < 24 * 7 * 2)
            return $"{hours / 24} days";
        if (hours < 24 * 30 * 2)
            return $"{hours / 24 / 7} weeks";
        if (hours < 24 * 365 * 2)
            return $"{hours / 24 / 30} months";
        return $"{(long)(d.TotalHours / 24 / 365)} years";
    }
}

/// <summary>run_dir/health.json as the monitor writes it; Docker's State.Health.</summary>
public sealed class HealthState
{
    public const string FileName = "health.json";

    /// <summary>starting, healthy or unhealthy.</summary>
    [JsonPropertyName("Status")] public string Status { get; set; } = "";
    [JsonPropertyName("FailingStreak")] public int FailingStreak { get; set; }
    [JsonPropertyName("Log")] public List<HealthLogEntry> Log { get; set; } = [];
}

public sealed class HealthLogEntry
{
    [JsonPropertyName("Start")] public string Start { get; set; } = "";
    [JsonPropertyName("End")] public string End { get; set; } = "";
    [JsonPropertyName("ExitCode")] public int ExitCode { get; set; }
    [JsonPropertyName("Output")] public string Output { get; set; } = "";
}
