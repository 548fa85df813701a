using Orleans.Concurrency;

namespace Grains.Interfaces;

/// <summary>
/// One per job (key = <see cref="JobKey"/>, "{tenant}/{jobId}"). The source of truth for the job: validates the spec, shards frames into work
/// items, tracks each item, persists its state, and writes the manifest (and MP4) when every frame is stored.
/// </summary>
public interface IJobCoordinatorGrain : IGrainWithStringKey
{
    Task<SubmitResult> Submit(JobSpec spec, string tenant);
    /// <summary>Interleaves with long work (finalization) so status stays responsive.</summary>
    [AlwaysInterleave] Task<JobStatus?> GetStatus();
    /// <summary>Whether the job exists or a submit of it is under way (a quota reservation for it is then not a leak).</summary>
    [AlwaysInterleave] Task<bool> ExistsOrIsSubmitting();
    /// <summary>
    /// The job's position in its tenant's index (<see cref="IJobIndexGrain"/>); null when there is no such job. Interleaves
    /// (a list call must not wait behind finalization); a submit sets the position in the same turn that makes the job exist.
    /// </summary>
    [AlwaysInterleave] Task<long?> IndexPosition();
    Task<bool> Cancel();
    /// <summary>
    /// Soft progress (no await inside), so it may run between the awaits of a completion's state write instead of
    /// queueing a starting worker behind every other worker's report to the same job.
    /// </summary>
    [AlwaysInterleave] Task ItemLeased(int itemIndex, int attempt, string workerId);
    Task ItemCompleted(ItemResult result);
    Task ItemFailed(int itemIndex, int attempt, string workerId, string reason);
}

/// <summary>
/// The cluster-wide work queue (key 0). Soft state: coordinators re-offer their pending items on every
/// heartbeat and the scheduler drops what it already holds, so losing it loses no work. Workers pull leases.
/// </summary>
public interface ISchedulerGrain : IGrainWithIntegerKey
{
    /// <summary>Adds items, ignoring ones already queued or leased (same job, batch and attempt).</summary>
    Task Offer(WorkItem[] items);
    /// <summary>Removes a job's queued items (cancel / failure); the job by its <see cref="JobKey"/>.</summary>
    Task Withdraw(string jobKey);
    /// <summary>Stops offering a job's items (by <see cref="JobKey"/>) to a worker that keeps failing them.</summary>
    Task Blocklist(string jobKey, string workerId);
    [AlwaysInterleave] Task<WorkLease?> Lease(LeaseRequest request, CancellationToken cancellationToken = default);
    Task Release(Guid leaseId, string workerId, LeaseOutcome[] outcomes);
    /// <summary>
    /// Keeps a lease its worker is still working on from expiring (a GPU lease of thousands of frames can take longer
    /// than Scheduler:LeaseTimeout to store on a busy host). False when the lease is unknown (expired or released).
    /// </summary>
    Task<bool> Renew(Guid leaseId, string workerId);
    Task<SchedulerSnapshot> Snapshot();
    /// <summary>A tenant's fair-share weight (admin `set-weight`); also loaded from the tenant directory on activation.</summary>
    Task SetWeight(string tenant, double weight);
}

/// <summary>One per device per silo (key "{siloName}/{device}"), placed on that silo. Pulls and runs work.</summary>
public interface IWorkerGrain : IGrainWithStringKey
{
    // Both run in one synchronous turn (no await), so interleaving them cannot split them; they must never queue
    // behind whatever the worker is doing, because the silo's keep-alive and operators' queries depend on them.
    [AlwaysInterleave] Task Start();
    [AlwaysInterleave] Task<WorkerInfo> GetInfo();
}

/// <summary>
/// The jobs of one tenant (key = tenant id) in submission order. A submit reserves a position, the job records it, then
/// places itself there: each costs a write of constant size (a counter, one page), whatever the tenant's job count, and a
/// job is never listed twice. A position reserved by a submit that failed before its job was stored stays empty.
/// </summary>
public interface IJobIndexGrain : IGrainWithStringKey
{
    /// <summary>The next position (persisted before it is returned).</summary>
    Task<long> Reserve();
    /// <summary>Puts the job at the position it reserved; idempotent.</summary>
    Task Place(long position, string jobId);
    /// <summary>At most <paramref name="count"/> ids at positions after <paramref name="after"/> (null: from the first), empty positions skipped.</summary>
    Task<string[]> After(long? after, int count);
    /// <summary>The position of a job indexed before positions were recorded (a scan, once per such job); placed at the end if absent.</summary>
    Task<long> PositionOf(string jobId);
    /// <summary>Every id (reads every page: for tests and tools, not for the API).</summary>
    Task<string[]> List();
}

/// <summary>
/// One page of a tenant's job index (key "{tenant}/{page}"): <see cref="PageSize"/> positions. Internal to
/// <see cref="IJobIndexGrain"/>.
/// </summary>
public interface IJobIndexPageGrain : IGrainWithStringKey
{
    public const int PageSize = 1000;

    Task Put(int offset, string jobId);
    /// <summary><see cref="Put"/> of consecutive ids from <paramref name="offset"/> in one write (moving an index stored as one list).</summary>
    Task PutRange(int offset, string[] jobIds);
    /// <summary>The ids at offsets from <paramref name="from"/> on (empty positions skipped), at most <paramref name="count"/>.</summary>
    Task<string[]> Read(int from, int count);
    /// <summary>The offset of <paramref name="jobId"/>, or -1.</summary>
    Task<int> OffsetOf(string jobId);
}
