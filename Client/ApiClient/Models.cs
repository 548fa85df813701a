namespace ApiClient;

// The HTTP API's documents as this client reads and writes them (camelCase JSON, enums by name; see the OpenAPI
// document at /openapi/v1.json). Own types rather than the cluster's: this library must not depend on Orleans.
// Properties the client does not use are simply not declared (the reader ignores them).

public enum JobState { Unknown, Queued, Running, Finalizing, Completed, Failed, Cancelled }

/// <summary>A job spec (the body of POST /v1/jobs). Kind is "ImageSet" or "Video".</summary>
public sealed record JobRequest
{
    public string Kind { get; init; } = "Video";
    public string ModelId { get; init; } = "mnist-scm";
    public int[] Classes { get; init; } = [0];
    public int Frames { get; init; } = 16;
    public int Fps { get; init; } = 12;
    public ulong Seed { get; init; }
    public int Steps { get; init; } = 2;
    public double[]? IntermediateTimes { get; init; }
    public double Guidance { get; init; } = 1.0;
    public int OutputSize { get; init; } = 128;
    public string Resize { get; init; } = "bilinear";
    public bool Mp4 { get; init; }
    public int Priority { get; init; }
    public int? ItemFrames { get; init; }
}

public sealed record JobView
{
    public string JobId { get; init; } = "";
    public JobState State { get; init; }
    public JobRequest? Spec { get; init; }
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
    public string? CoordinatorSilo { get; init; }
    /// <summary>Kinds of the devices that made the frames so far ("cpu", "cuda"; "simulated" = placeholders, not model output).</summary>
    public string[] DeviceKinds { get; init; } = [];
    public JobLinks Links { get; init; } = new();
}

public sealed record JobLinks
{
    public string Self { get; init; } = "";
    public string Events { get; init; } = "";
    public string Frame { get; init; } = "";
    public string? Manifest { get; init; }
    public string? Video { get; init; }
}

/// <summary>A page of GET /v1/jobs: <paramref name="Next"/> is the next page's <c>after</c>, null on the last page.</summary>
public sealed record JobList(JobView[] Jobs, string? Next);

public sealed record QuotaView
{
    public int MaxRunningJobs { get; init; }
    public int MaxQueuedFrames { get; init; }
    public int MaxFramesPerJob { get; init; }
    public int MaxOutputSize { get; init; }
    public double DeviceSecondsPerDay { get; init; }
    public int FramesPerDay { get; init; }
}

/// <summary>A quota change: only the values given are sent (and changed).</summary>
public sealed record QuotaChange
{
    public int? MaxRunningJobs { get; init; }
    public int? MaxQueuedFrames { get; init; }
    public int? MaxFramesPerJob { get; init; }
    public int? MaxOutputSize { get; init; }
    public double? DeviceSecondsPerDay { get; init; }
    public int? FramesPerDay { get; init; }
}

public sealed record UsageView
{
    public int RunningJobs { get; init; }
    public int QueuedFrames { get; init; }
    public double DeviceSeconds24h { get; init; }
    public int Frames24h { get; init; }
    public long JobsSubmitted { get; init; }
    public long FramesRendered { get; init; }
    public double DeviceSecondsTotal { get; init; }
    public long JobsRejected { get; init; }
}

public sealed record TenantView
{
    public string Id { get; init; } = "";
    public bool IsAdmin { get; init; }
    public double Weight { get; init; } = 1;
    public QuotaView Quota { get; init; } = new();
    public UsageView Usage { get; init; } = new();
    public string[] ActiveKeyIds { get; init; } = [];
}

public sealed record TenantList(TenantView[] Tenants);

/// <summary>A new API key: shown once.</summary>
public sealed record IssuedKey(string Tenant, string KeyId, string ApiKey);

public sealed record RevokeResult(int Revoked);

public sealed record SiloView(string Name, string Address, string Status);

public sealed record WorkerView
{
    public string WorkerId { get; init; } = "";
    public string SiloName { get; init; } = "";
    public string Device { get; init; } = "";
    public DateTime LastSeen { get; init; }
    public long FramesDone { get; init; }
    public double BusySeconds { get; init; }
    public string? LoadedModel { get; init; }
    public string? LastError { get; init; }
}

public sealed record QueueView(string Tenant, int QueuedItems, int QueuedFrames, double DecayedUsage, double Weight);

public sealed record LeaseJobView(string Tenant, string JobId, int Frames);

public sealed record LeaseView(Guid LeaseId, string WorkerId, DateTime ExpiresAt, LeaseJobView[] Jobs);

public sealed record SchedulerView
{
    public QueueView[] Tenants { get; init; } = [];
    public int LeasesOutstanding { get; init; }
    public long LeasesExpired { get; init; }
    public long LeasesGranted { get; init; }
    public WorkerView[] Workers { get; init; } = [];
    public LeaseView[] Leases { get; init; } = [];
}

public sealed record ClusterView(SiloView[] Silos, SchedulerView Scheduler);

/// <summary>The parts of a job's manifest.json that fetch needs: every file and its SHA-256.</summary>
public sealed record ManifestView
{
    public string JobId { get; init; } = "";
    public ManifestFile[] Frames { get; init; } = [];
    public ManifestFile? Video { get; init; }
}

public sealed record ManifestFile
{
    public int Index { get; init; }
    public string Blob { get; init; } = "";
    public string Sha256 { get; init; } = "";
    public long Bytes { get; init; }
}

/// <summary>An RFC 7807 problem document as the API writes it (with its extensions).</summary>
public sealed record ProblemView
{
    public string? Title { get; init; }
    public string? Detail { get; init; }
    public int? Status { get; init; }
    public Dictionary<string, string[]>? Errors { get; init; }
    public string? AuthProblem { get; init; }
    public QuotaViolation[]? Quotas { get; init; }
}

public sealed record QuotaViolation(string Quota, string Detail);
