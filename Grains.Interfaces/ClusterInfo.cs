namespace Grains.Interfaces;

[GenerateSerializer, Immutable]
public sealed record WorkerInfo
{
    [Id(0)] public required string WorkerId { get; init; }
    [Id(1)] public required string SiloName { get; init; }
    [Id(2)] public required string Device { get; init; }
    [Id(3)] public DateTime LastSeen { get; init; }
    [Id(4)] public long FramesDone { get; init; }
    [Id(5)] public double BusySeconds { get; init; }
    [Id(6)] public string? LoadedModel { get; init; }
    [Id(7)] public string? LastError { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record TenantQueue
{
    [Id(0)] public required string Tenant { get; init; }
    [Id(1)] public int QueuedItems { get; init; }
    [Id(2)] public int QueuedFrames { get; init; }
    [Id(3)] public double DecayedUsage { get; init; }
    [Id(4)] public double Weight { get; init; } = 1;
}

[GenerateSerializer, Immutable]
public sealed record SchedulerSnapshot
{
    [Id(0)] public TenantQueue[] Tenants { get; init; } = [];
    [Id(1)] public int LeasesOutstanding { get; init; }
    [Id(2)] public long LeasesExpired { get; init; }
    [Id(3)] public WorkerInfo[] Workers { get; init; } = [];
    [Id(4)] public long LeasesGranted { get; init; }
    /// <summary>Leases in hand, one per busy device: what each device is rendering right now (`scmctl cluster`).</summary>
    [Id(6)] public LeaseInfo[] Leases { get; init; } = [];
}

/// <summary>A granted, unreleased lease: the worker (device) holding it, the frames per job, and when it expires.</summary>
[GenerateSerializer, Immutable]
public sealed record LeaseInfo
{
    [Id(0)] public Guid LeaseId { get; init; }
    [Id(1)] public required string WorkerId { get; init; }
    [Id(2)] public DateTime ExpiresAt { get; init; }
    [Id(3)] public LeaseJob[] Jobs { get; init; } = [];
}

[GenerateSerializer, Immutable]
public sealed record LeaseJob
{
    [Id(0)] public required string Tenant { get; init; }
    [Id(1)] public required string JobId { get; init; }
    [Id(2)] public int Frames { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record SiloSummary
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required string Address { get; init; }
    [Id(2)] public required string Status { get; init; }
}

/// <summary>What `scmctl cluster` shows: active silos and the scheduler's view (see IClusterApiGrain.Cluster).</summary>
[GenerateSerializer, Immutable]
public sealed record ClusterView
{
    [Id(0)] public SiloSummary[] Silos { get; init; } = [];
    [Id(1)] public required SchedulerSnapshot Scheduler { get; init; }
}
