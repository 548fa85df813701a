namespace Grains.Interfaces;

/// <summary>A contiguous run of frames of one job: the unit the coordinator tracks and retries.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkItem
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required string Tenant { get; init; }
    [Id(2)] public int ItemIndex { get; init; }
    [Id(3)] public int FirstFrame { get; init; }
    [Id(4)] public int FrameCount { get; init; }
    [Id(5)] public int Attempt { get; init; }
    [Id(6)] public required JobSpec Spec { get; init; }
    /// <summary>Blob folder of the job, e.g. "tenants/default/jobs/j1/".</summary>
    [Id(7)] public required string BlobPrefix { get; init; }
    [Id(8)] public DateTime SubmittedAt { get; init; }

    /// <summary>The key of the job's coordinator grain (<see cref="Interfaces.JobKey"/>): job ids are per tenant.</summary>
    public string JobKey => Interfaces.JobKey.Of(Tenant, JobId);

    /// <summary>This attempt at this item: what the scheduler tracks offers and leases by.</summary>
    public ItemAttempt AttemptKey => new(JobKey, ItemIndex, Attempt);

    /// <summary>Items with equal keys can share one network batch (cross-job dynamic batching).</summary>
    public string SamplingKey => $"{Spec.ModelId}|{Spec.Steps}|{string.Join(",", Spec.IntermediateTimes ?? [])}|{Spec.Guidance}";

    public static string FrameBlob(string blobPrefix, int frame) => $"{blobPrefix}frames/{frame:D6}.png";
}

/// <summary>One attempt at one work item of one job (job key as in <see cref="WorkItem.JobKey"/>).</summary>
public readonly record struct ItemAttempt(string JobKey, int ItemIndex, int Attempt);

[GenerateSerializer, Immutable]
public sealed record LeaseRequest
{
    [Id(0)] public required string WorkerId { get; init; }
    [Id(1)] public required string SiloName { get; init; }
    [Id(2)] public int MaxFrames { get; init; } = 64;
    [Id(3)] public string? LoadedModel { get; init; }
    /// <summary>How long the scheduler may hold the call open waiting for work (long poll).</summary>
    [Id(4)] public TimeSpan Wait { get; init; } = TimeSpan.FromSeconds(2);
}

[GenerateSerializer, Immutable]
public sealed record WorkLease
{
    [Id(0)] public Guid LeaseId { get; init; }
    [Id(1)] public WorkItem[] Items { get; init; } = [];
    [Id(2)] public DateTime ExpiresAt { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record FrameResult
{
    [Id(0)] public int Index { get; init; }
    [Id(1)] public required string Blob { get; init; }
    [Id(2)] public required string Sha256 { get; init; }
    [Id(3)] public int Bytes { get; init; }
    /// <summary><see cref="DeviceKinds"/>: frames are reproducible bit for bit on the same device kind, compute chunk and precision.</summary>
    [Id(4)] public string? DeviceKind { get; init; }
    /// <summary>Images per network call when this frame was sampled (0: simulated or not recorded).</summary>
    [Id(5)] public int ComputeChunk { get; init; }
    /// <summary>The dtype the network ran in ("Float32", "BFloat16", "Float16"; null: simulated or not recorded).</summary>
    [Id(6)] public string? Precision { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record ItemResult
{
    [Id(0)] public int ItemIndex { get; init; }
    [Id(1)] public int Attempt { get; init; }
    [Id(2)] public required string WorkerId { get; init; }
    [Id(3)] public FrameResult[] Frames { get; init; } = [];
    /// <summary>This item's share of the device time its batch used (by frame count).</summary>
    [Id(4)] public double DeviceSeconds { get; init; }
}

/// <summary>What a worker tells the scheduler when it is done with a lease.</summary>
[GenerateSerializer, Immutable]
public sealed record LeaseOutcome
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required string Tenant { get; init; }
    [Id(2)] public int ItemIndex { get; init; }
    [Id(3)] public bool Succeeded { get; init; }
    [Id(4)] public double DeviceSeconds { get; init; }
    [Id(5)] public int Frames { get; init; }
}
