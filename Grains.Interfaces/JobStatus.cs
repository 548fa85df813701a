namespace Grains.Interfaces;

public enum JobState { Unknown, Queued, Running, Finalizing, Completed, Failed, Cancelled }

[GenerateSerializer, Immutable]
public sealed record JobStatus
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public string Tenant { get; init; } = "";
    [Id(2)] public JobState State { get; init; }
    [Id(3)] public JobSpec? Spec { get; init; }
    [Id(4)] public int FramesTotal { get; init; }
    [Id(5)] public int FramesDone { get; init; }
    [Id(6)] public int ItemsTotal { get; init; }
    [Id(7)] public int ItemsQueued { get; init; }
    [Id(8)] public int ItemsLeased { get; init; }
    [Id(9)] public int ItemsDone { get; init; }
    [Id(10)] public int Retries { get; init; }
    [Id(11)] public string? Error { get; init; }
    [Id(12)] public DateTime CreatedAt { get; init; }
    [Id(13)] public DateTime? StartedAt { get; init; }
    [Id(14)] public DateTime? CompletedAt { get; init; }
    [Id(15)] public string? ManifestBlob { get; init; }
    [Id(16)] public string? VideoBlob { get; init; }
    [Id(17)] public double DeviceSeconds { get; init; }
    [Id(18)] public string BlobPrefix { get; init; } = "";
    [Id(19)] public string[] Warnings { get; init; } = [];
    /// <summary>Name of the silo whose coordinator activation answered (it moves when that silo dies).</summary>
    [Id(20)] public string? CoordinatorSilo { get; init; }
    /// <summary>
    /// Kinds of the devices that made the frames so far (<see cref="Interfaces.DeviceKinds"/>, in order of first use);
    /// "simulated" means placeholder frames, not model output (see Warnings).
    /// </summary>
    [Id(22)] public string[] DeviceKinds { get; init; } = [];

    public bool IsTerminal => State is JobState.Completed or JobState.Failed or JobState.Cancelled;
}

/// <summary>Outcome of a submit: accepted with a status, or a <see cref="Interfaces.Rejection"/> with every reason.</summary>
[GenerateSerializer, Immutable]
public sealed record SubmitResult
{
    [Id(0)] public JobStatus? Status { get; init; }
    [Id(1)] public Rejection? Rejection { get; init; }

    public bool Accepted => Rejection is null;

    /// <summary>The rejection's messages (none when accepted), for logs and error lines.</summary>
    public string[] Errors => Rejection?.Messages ?? [];

    public static SubmitResult Of(JobStatus status) => new() { Status = status };
    public static SubmitResult Rejected(Rejection rejection) => new() { Rejection = rejection };
}
