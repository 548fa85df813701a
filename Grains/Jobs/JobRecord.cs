using Grains.Interfaces;

namespace Grains.Jobs;

public enum ItemState { Queued, Leased, Done, Failed }

/// <summary>The persisted state of one job: the coordinator's source of truth.</summary>
[GenerateSerializer]
public sealed class JobRecord
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public string Tenant { get; set; } = "";
    [Id(2)] public JobState State { get; set; }
    [Id(3)] public DateTime CreatedAt { get; set; }
    [Id(4)] public DateTime? StartedAt { get; set; }
    [Id(5)] public DateTime? CompletedAt { get; set; }
    [Id(6)] public List<ItemRecord> Items { get; set; } = new();
    [Id(7)] public FrameRecord?[] Frames { get; set; } = [];
    [Id(8)] public string? Error { get; set; }
    [Id(9)] public double DeviceSeconds { get; set; }
    [Id(10)] public int Retries { get; set; }
    [Id(11)] public string BlobPrefix { get; set; } = "";
    [Id(12)] public string? ManifestBlob { get; set; }
    [Id(13)] public string? VideoBlob { get; set; }
    [Id(14)] public List<string> Warnings { get; set; } = new();
    [Id(15)] public int NumClasses { get; set; }
    /// <summary>The tenant grain has been told that this (terminal) job ended and released its reservation.</summary>
    [Id(16)] public bool TenantReleased { get; set; }
    /// <summary>At least one item ran on a simulated device: its frames are placeholders (bench scale).</summary>
    [Id(17)] public bool Simulated { get; set; }

    public const string SimulatedWarning = "SIMULATED: frames were produced by simulated devices (Devices:Simulated); they are placeholder images, not model output";

    public void MarkSimulated()
    {
        if (Simulated) return;
        Simulated = true;
        Warnings.Add(SimulatedWarning);
    }

    public int FramesDone => Frames.Count(f => f is not null);

    /// <summary>The item at <paramref name="batchIndex"/>, if that index exists and is at <paramref name="attempt"/> (a report of an older attempt is stale).</summary>
    public bool TryCurrentItem(int batchIndex, int attempt, out ItemRecord item)
    {
        item = null!;
        if (batchIndex < 0 || batchIndex >= Items.Count) return false;
        item = Items[batchIndex];
        return item.Attempt == attempt;
    }

    /// <summary>Every item not yet done or failed, as work the scheduler can hold.</summary>
    public WorkItem[] PendingWorkItems(string jobId) => Enumerable.Range(0, Items.Count)
        .Where(i => Items[i].State is ItemState.Queued or ItemState.Leased)
        .Select(i => ToWorkItem(jobId, i)).ToArray();

    public WorkItem ToWorkItem(string jobId, int batchIndex)
    {
        var item = Items[batchIndex];
        return new WorkItem
        {
            JobId = jobId, Tenant = Tenant, BatchIndex = batchIndex, FirstFrame = item.FirstFrame, FrameCount = item.FrameCount,
            Attempt = item.Attempt, Spec = Spec!, BlobPrefix = BlobPrefix, SubmittedAt = CreatedAt,
        };
    }

    public JobStatus ToStatus(string jobId) => new()
    {
        JobId = jobId, Tenant = Tenant, State = State, Spec = Spec,
        FramesTotal = Frames.Length, FramesDone = FramesDone,
        BatchesTotal = Items.Count,
        BatchesQueued = Items.Count(i => i.State == ItemState.Queued),
        BatchesLeased = Items.Count(i => i.State == ItemState.Leased),
        BatchesDone = Items.Count(i => i.State == ItemState.Done),
        Retries = Retries, Error = Error, CreatedAt = CreatedAt, StartedAt = StartedAt, CompletedAt = CompletedAt,
        ManifestBlob = ManifestBlob, VideoBlob = VideoBlob, DeviceSeconds = DeviceSeconds, BlobPrefix = BlobPrefix,
        Warnings = Warnings.ToArray(), Simulated = Simulated,
    };
}

[GenerateSerializer]
public sealed class ItemRecord
{
    [Id(0)] public int FirstFrame { get; set; }
    [Id(1)] public int FrameCount { get; set; }
    [Id(2)] public ItemState State { get; set; }
    /// <summary>The attempt currently offered or running; reports about older attempts are stale.</summary>
    [Id(3)] public int Attempt { get; set; }
    [Id(4)] public int Failures { get; set; }
    [Id(5)] public string? LastError { get; set; }
    [Id(6)] public string? Worker { get; set; }
}

[GenerateSerializer]
public sealed record FrameRecord([property: Id(0)] string Blob, [property: Id(1)] string Sha256, [property: Id(2)] int Bytes,
    [property: Id(3)] string? DeviceKind = null, [property: Id(4)] int ComputeChunk = 0);
