using Grains.Interfaces;

namespace Grains.Jobs;

public enum ItemState { Queued, Leased, Done, Failed }

/// <summary>What a worker's completion report did to the job (<see cref="JobRecord.Complete"/>).</summary>
public enum CompletionOutcome
{
    /// <summary>Nothing changed: no such item, the item is stored already (a duplicate: identical bytes), or the job ended.</summary>
    Ignored,
    /// <summary>The report's frames are not the item's; nothing changed, and the report counts as a failed attempt.</summary>
    WrongFrames,
    /// <summary>The item is done; other items are pending.</summary>
    Stored,
    /// <summary>The item was the last one: the job is Finalizing.</summary>
    LastStored,
}

/// <summary>What a failed attempt did to the job (<see cref="JobRecord.Fail"/>).</summary>
public enum FailureOutcome
{
    /// <summary>Nothing changed: a report of an older attempt, of a stored item, or of a job that ended.</summary>
    Ignored,
    /// <summary>The item is queued again with its next attempt.</summary>
    Retried,
    /// <summary>Retried, and the worker has now failed enough of the job's items to be kept off the job.</summary>
    RetriedAndBlocklisted,
    /// <summary>The item used its last attempt: the item and the job are Failed.</summary>
    JobFailed,
}

/// <summary>
/// The persisted state of one job: the coordinator's source of truth, and the job's state machine. Every transition
/// is a method here that checks it is allowed, applies it, and says what happened; the coordinator then does the
/// writes, metrics and scheduler calls that outcome needs. The job goes Unknown → Queued (<see cref="Open"/>) →
/// Running (the first lease or completion) → Finalizing (every item stored) → Completed (<see cref="Finish"/>), or to
/// Failed (an item's last attempt failed) or Cancelled from any state before the end; the three ends are final.
/// An item goes Queued → Leased → Done, and back to Queued with its next attempt when one fails, or to Failed.
/// Workers' reports arrive late, twice or for older attempts, so a report that does not apply is ignored (and says
/// so); a command the coordinator should not have given throws.
/// </summary>
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
    /// <summary>
    /// Per frame of the job, its record once its item is done. Not part of this record's storage: each done item is a
    /// record of its own (<see cref="DoneItemStore"/>), and <see cref="Restore"/> puts them back here on activation.
    /// </summary>
    [field: NonSerialized] public FrameRecord?[] Frames { get; set; } = [];
    [Id(8)] public string? Error { get; set; }
    /// <summary>The done items' device time; like <see cref="Frames"/>, rebuilt from their records on activation.</summary>
    [field: NonSerialized] public double DeviceSeconds { get; set; }
    [Id(10)] public int Retries { get; set; }
    [Id(11)] public string BlobPrefix { get; set; } = "";
    [Id(12)] public string? ManifestBlob { get; set; }
    [Id(13)] public string? VideoBlob { get; set; }
    [Id(14)] public List<string> Warnings { get; set; } = new();
    [Id(15)] public int NumClasses { get; set; }
    /// <summary>The tenant grain has been told that this (terminal) job ended and released its reservation.</summary>
    [Id(16)] public bool TenantReleased { get; set; }
    /// <summary>Position in the tenant's index (<see cref="IJobIndexGrain"/>), reserved before storing; null for older jobs.</summary>
    [Id(17)] public long? IndexPosition { get; set; }
    /// <summary>
    /// Kinds of the devices that made the done items' frames (<see cref="Interfaces.DeviceKinds"/>), in order of first use;
    /// like <see cref="Frames"/>, rebuilt from the done items' records on activation.
    /// </summary>
    [field: NonSerialized] public List<string> DeviceKinds { get; set; } = new();

    public const string SimulatedWarning = "SIMULATED: frames were produced by simulated devices (Devices:Simulated); they are placeholder images, not model output";

    /// <summary>A job was submitted under this key (whatever its state now).</summary>
    public bool Exists => State != JobState.Unknown;

    public bool IsTerminal => State is JobState.Completed or JobState.Failed or JobState.Cancelled;

    /// <summary>Items done: kept, not counted, because every completion asks whether it was the last one.</summary>
    [field: NonSerialized] public int ItemsDone { get; private set; }

    public int FramesDone => Items.Where(i => i.State == ItemState.Done).Sum(i => i.FrameCount);

    /// <summary>Unknown → Queued: the job's items, all queued at attempt 0. Throws for a job that exists (a submit checks first).</summary>
    public void Open(string jobId, JobSpec spec, string tenant, int itemFrames, int numClasses, DateTime now)
    {
        if (Exists) throw Illegal("open", JobState.Queued);
        Spec = spec;
        Tenant = tenant;
        NumClasses = numClasses;
        State = JobState.Queued;
        CreatedAt = now;
        BlobPrefix = $"tenants/{tenant}/jobs/{jobId}/";
        Items = FramePlanner.Shard(spec.Frames, itemFrames).Select(s => new ItemRecord { FirstFrame = s.First, FrameCount = s.Count }).ToList();
        Frames = new FrameRecord?[spec.Frames];
    }

    /// <summary>Queued, Running or Finalizing → Cancelled. False, changing nothing, when there is no job or it has ended.</summary>
    public bool Cancel(DateTime now)
    {
        if (!Exists || IsTerminal) return false;
        State = JobState.Cancelled;
        CompletedAt = now;
        return true;
    }

    /// <summary>
    /// A worker leased the item's current attempt: item Queued → Leased, job Queued → Running. False, changing nothing,
    /// for an older attempt, an item not queued, or a job that ended.
    /// </summary>
    public bool Lease(int itemIndex, int attempt, string workerId, DateTime now)
    {
        if (IsTerminal || !TryCurrentItem(itemIndex, attempt, out var item) || item.State != ItemState.Queued) return false;
        item.State = ItemState.Leased;
        item.Worker = workerId;
        if (State == JobState.Queued)
        {
            State = JobState.Running;
            StartedAt = now;
        }
        return true;
    }

    /// <summary>
    /// A worker stored an item's frames: the item is Done (from any attempt: a late one wrote the same bytes), the job
    /// Running, and Finalizing once every item is done.
    /// </summary>
    public CompletionOutcome Complete(ItemResult result, DateTime now)
    {
        if (!Exists || IsTerminal || result.ItemIndex < 0 || result.ItemIndex >= Items.Count) return CompletionOutcome.Ignored;
        var item = Items[result.ItemIndex];
        if (item.State == ItemState.Done) return CompletionOutcome.Ignored;
        if (result.Frames.Length != item.FrameCount || result.Frames.Any(f => f.Index < item.FirstFrame || f.Index >= item.FirstFrame + item.FrameCount))
            return CompletionOutcome.WrongFrames;
        var frames = new FrameRecord[item.FrameCount];
        foreach (var frame in result.Frames)
            frames[frame.Index - item.FirstFrame] = new FrameRecord(frame.Blob, frame.Sha256, frame.Bytes, frame.DeviceKind, frame.ComputeChunk, frame.Precision);
        Apply(new DoneItem { ItemIndex = result.ItemIndex, Frames = frames, DeviceSeconds = result.DeviceSeconds, Worker = result.WorkerId });
        if (State == JobState.Queued)
        {
            State = JobState.Running;
            StartedAt ??= now;
        }
        if (ItemsDone < Items.Count) return CompletionOutcome.Stored;
        State = JobState.Finalizing;
        return CompletionOutcome.LastStored;
    }

    /// <summary>What the done item at <paramref name="itemIndex"/> adds to the job, as its own record stores it.</summary>
    public DoneItem DoneItemOf(int itemIndex)
    {
        var item = Items[itemIndex];
        if (item.State != ItemState.Done) throw new InvalidOperationException($"item {itemIndex} is {item.State}, not done");
        return new DoneItem
        {
            ItemIndex = itemIndex, Frames = Frames.AsSpan(item.FirstFrame, item.FrameCount).ToArray()!, DeviceSeconds = item.DeviceSeconds, Worker = item.Worker,
        };
    }

    /// <summary>
    /// After this record was read from storage: the done items' records are the only proof that an item is done (an
    /// item this record calls done without one is queued again: its completion was acknowledged but not stored), and
    /// they say whether the job is Finalizing.
    /// </summary>
    public void Restore(IEnumerable<DoneItem> done)
    {
        if (!Exists) return;
        Frames = new FrameRecord?[Spec!.Frames];
        DeviceSeconds = 0;
        DeviceKinds = new();
        ItemsDone = 0;
        foreach (var item in Items.Where(i => i.State == ItemState.Done)) item.State = ItemState.Queued;
        foreach (var item in done)
            if (item.ItemIndex >= 0 && item.ItemIndex < Items.Count && item.Frames.Length == Items[item.ItemIndex].FrameCount) Apply(item);
        if (IsTerminal) return;
        // Every item's record was stored but the job's Finalizing record was not (the silo died in between): no report
        // will come again, so the job finalizes now. The reverse cannot happen (the job's record is written after its
        // items'), but a job must never finalize with a frame missing.
        if (ItemsDone == Items.Count) State = JobState.Finalizing;
        else if (State == JobState.Finalizing) State = JobState.Running;
    }

    void Apply(DoneItem done)
    {
        var item = Items[done.ItemIndex];
        done.Frames.CopyTo(Frames, item.FirstFrame);
        if (item.State != ItemState.Done) ItemsDone++;
        item.State = ItemState.Done;
        item.Worker = done.Worker;
        item.DeviceSeconds = done.DeviceSeconds;
        DeviceSeconds += done.DeviceSeconds;
        foreach (var frame in done.Frames) NoteDeviceKind(frame.DeviceKind);
    }

    /// <summary>
    /// The item's current attempt failed on a worker: counted as a retry; after <paramref name="maxAttempts"/> failures
    /// the item and the job are Failed, else the item is Queued at its next attempt. The worker is to be blocklisted once
    /// the latest failure of <paramref name="blocklistAfterFailures"/> of the job's items was on it.
    /// </summary>
    public FailureOutcome Fail(int itemIndex, int attempt, string workerId, string reason, int maxAttempts, int blocklistAfterFailures, DateTime now)
    {
        if (IsTerminal || !TryCurrentItem(itemIndex, attempt, out var item) || item.State == ItemState.Done) return FailureOutcome.Ignored;
        item.Failures++;
        item.LastError = $"{workerId}: {reason}";
        Retries++;
        if (item.Failures >= maxAttempts)
        {
            item.State = ItemState.Failed;
            State = JobState.Failed;
            CompletedAt = now;
            Error = $"item {itemIndex} (frames {item.FirstFrame}-{item.FirstFrame + item.FrameCount - 1}) failed {item.Failures} times; last: {item.LastError}";
            return FailureOutcome.JobFailed;
        }
        item.Attempt++;
        item.State = ItemState.Queued;
        int failuresOnWorker = Items.Count(i => i.LastError?.StartsWith(workerId + ":", StringComparison.Ordinal) == true);
        return failuresOnWorker >= blocklistAfterFailures ? FailureOutcome.RetriedAndBlocklisted : FailureOutcome.Retried;
    }

    /// <summary>Finalizing → Completed, with the outputs written. Throws in any other state: only a finished finalization completes a job.</summary>
    public void Finish(string manifestBlob, string? videoBlob, DateTime completedAt)
    {
        if (State != JobState.Finalizing) throw Illegal("finish", JobState.Completed);
        ManifestBlob = manifestBlob;
        VideoBlob = videoBlob;
        State = JobState.Completed;
        CompletedAt = completedAt;
    }

    InvalidOperationException Illegal(string transition, JobState to) => new($"job state machine: cannot {transition} a job that is {State} (→ {to})");

    /// <summary>Records a frame's provenance; a simulated frame adds the warning (once) that the job holds no model output.</summary>
    void NoteDeviceKind(string? kind)
    {
        if (kind is null || DeviceKinds.Contains(kind)) return;
        DeviceKinds.Add(kind);
        if (kind == Interfaces.DeviceKinds.Simulated && !Warnings.Contains(SimulatedWarning)) Warnings.Add(SimulatedWarning);
    }

    /// <summary>The item at <paramref name="itemIndex"/>, if that index exists and is at <paramref name="attempt"/> (a report of an older attempt is stale).</summary>
    bool TryCurrentItem(int itemIndex, int attempt, out ItemRecord item)
    {
        item = null!;
        if (itemIndex < 0 || itemIndex >= Items.Count) return false;
        item = Items[itemIndex];
        return item.Attempt == attempt;
    }

    /// <summary>Every item not yet done or failed, as work the scheduler can hold.</summary>
    public WorkItem[] PendingWorkItems(string jobId) => Enumerable.Range(0, Items.Count)
        .Where(i => Items[i].State is ItemState.Queued or ItemState.Leased)
        .Select(i => ToWorkItem(jobId, i)).ToArray();

    public WorkItem ToWorkItem(string jobId, int itemIndex)
    {
        var item = Items[itemIndex];
        return new WorkItem
        {
            JobId = jobId, Tenant = Tenant, ItemIndex = itemIndex, FirstFrame = item.FirstFrame, FrameCount = item.FrameCount,
            Attempt = item.Attempt, Spec = Spec!, BlobPrefix = BlobPrefix, SubmittedAt = CreatedAt,
        };
    }

    public JobStatus ToStatus(string jobId) => new()
    {
        JobId = jobId, Tenant = Tenant, State = State, Spec = Spec,
        FramesTotal = Frames.Length, FramesDone = FramesDone,
        ItemsTotal = Items.Count,
        ItemsQueued = Items.Count(i => i.State == ItemState.Queued),
        ItemsLeased = Items.Count(i => i.State == ItemState.Leased),
        ItemsDone = ItemsDone,
        Retries = Retries, Error = Error, CreatedAt = CreatedAt, StartedAt = StartedAt, CompletedAt = CompletedAt,
        ManifestBlob = ManifestBlob, VideoBlob = VideoBlob, DeviceSeconds = DeviceSeconds, BlobPrefix = BlobPrefix,
        Warnings = Warnings.ToArray(), DeviceKinds = DeviceKinds.ToArray(),
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
    /// <summary>A done item's share of its batch's device time.</summary>
    [Id(7)] public double DeviceSeconds { get; set; }
}

[GenerateSerializer]
public sealed record FrameRecord([property: Id(0)] string Blob, [property: Id(1)] string Sha256, [property: Id(2)] int Bytes,
    [property: Id(3)] string? DeviceKind = null, [property: Id(4)] int ComputeChunk = 0, [property: Id(5)] string? Precision = null);
