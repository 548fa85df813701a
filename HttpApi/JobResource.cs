using Grains.Interfaces;

namespace HttpApi;

/// <summary>
/// A job as the HTTP API shows it: the status without internal details (blob names, tenant), plus links to what
/// can be fetched. Mirrors <see cref="JobStatus"/>.
/// </summary>
public sealed record JobResource
{
    public required string JobId { get; init; }
    public JobState State { get; init; }
    public JobSpec? Spec { get; init; }
    public int FramesTotal { get; init; }
    public int FramesDone { get; init; }
    public int ItemsTotal { get; init; }
    public int ItemsQueued { get; init; }
    public int ItemsLeased { get; init; }
    public int ItemsDone { get; init; }
    public int Retries { get; init; }
    public string? Error { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? CompletedAt { get; init; }
    public double DeviceSeconds { get; init; }
    public string[] Warnings { get; init; } = [];
    public bool IsTerminal { get; init; }
    /// <summary>The silo whose coordinator activation answered; it moves to another silo when that one dies.</summary>
    public string? CoordinatorSilo { get; init; }
    /// <summary>Kinds of the devices that made the frames so far ("cpu", "cuda"; "simulated" = placeholders, not model output).</summary>
    public string[] DeviceKinds { get; init; } = [];
    public required JobLinks Links { get; init; }

    public static JobResource From(JobStatus s) => new()
    {
        JobId = s.JobId, State = s.State, Spec = s.Spec, FramesTotal = s.FramesTotal, FramesDone = s.FramesDone,
        ItemsTotal = s.ItemsTotal, ItemsQueued = s.ItemsQueued, ItemsLeased = s.ItemsLeased, ItemsDone = s.ItemsDone,
        Retries = s.Retries, Error = s.Error, CreatedAt = s.CreatedAt, StartedAt = s.StartedAt, CompletedAt = s.CompletedAt,
        DeviceSeconds = s.DeviceSeconds, Warnings = s.Warnings, IsTerminal = s.IsTerminal, CoordinatorSilo = s.CoordinatorSilo,
        DeviceKinds = s.DeviceKinds, Links = JobLinks.For(s),
    };
}

/// <summary>Relative URLs; <see cref="Manifest"/> and <see cref="Video"/> are null until they exist.</summary>
public sealed record JobLinks
{
    public required string Self { get; init; }
    public required string Events { get; init; }
    /// <summary>Template: replace {index} with a frame number in [0, framesTotal).</summary>
    public required string Frame { get; init; }
    public string? Manifest { get; init; }
    public string? Video { get; init; }

    public static JobLinks For(JobStatus s)
    {
        var self = JobEndpoints.JobPath(s.JobId);
        return new JobLinks
        {
            Self = self, Events = self + "/events", Frame = self + "/frames/{index}",
            Manifest = s.ManifestBlob is null ? null : self + "/manifest",
            Video = s.VideoBlob is null ? null : self + "/video",
        };
    }
}

/// <summary>A page of the caller's jobs, oldest first; <paramref name="Next"/> is the next page's <c>after</c>, null on the last page.</summary>
public sealed record JobList(JobResource[] Jobs, string? Next);
