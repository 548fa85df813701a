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
    /// <summary>Time spent in the scheduler grain's own code since it activated (diagnostics, `bench scale`).</summary>
    [Id(5)] public SchedulerCost Cost { get; init; } = new();
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

/// <summary>
/// Wall time of the scheduler grain's synchronous code per path, since activation: queue and lease-table work
/// only. Orleans' messaging, serialization and waiting between turns are not included. On an oversubscribed
/// machine a turn that is preempted counts the preemption too.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SchedulerCost
{
    [Id(0)] public double OfferSeconds { get; init; }
    [Id(1)] public long OfferCalls { get; init; }
    [Id(2)] public long ItemsOffered { get; init; }
    /// <summary>Lease calls: the grant attempt on arrival and the hand-over after a long-poll wait.</summary>
    [Id(3)] public double LeaseSeconds { get; init; }
    [Id(4)] public long LeaseCalls { get; init; }
    /// <summary>Release calls, including granting freed work to waiting workers.</summary>
    [Id(5)] public double ReleaseSeconds { get; init; }
    [Id(6)] public long ReleaseCalls { get; init; }
    /// <summary>The periodic expiry scan (excluding its calls to coordinators).</summary>
    [Id(7)] public double ExpirySeconds { get; init; }
    [Id(8)] public long ExpiryScans { get; init; }

    public double TotalSeconds => OfferSeconds + LeaseSeconds + ReleaseSeconds + ExpirySeconds;
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
