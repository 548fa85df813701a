using System.Text.Json;
using BlobStorage;
using Grains.Hosting;
using Grains.Interfaces;
using Grains.Models;
using Grains.Options;
using Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;

namespace Grains.Jobs;

/// <summary>
/// One per job. Shards the job into work items, offers them to the scheduler, tracks every item
/// (queued / leased / done / failed) in persisted state, retries failed attempts up to the limit, and when every
/// frame is stored writes the MP4 (if asked) and then the manifest. A reminder re-activates it after its silo
/// dies; every heartbeat it re-offers whatever is still pending (the scheduler drops duplicates).
/// </summary>
public sealed partial class JobCoordinatorGrain(
    [PersistentState("job", "jobs")] IPersistentState<JobRecord> job,
    ModelCatalog catalog, IBlobStore blobs,
    IOptions<SchedulerOptions> schedulerOptions, IOptions<JobLimits> limits,
    GenerationMetrics metrics, ILogger<JobCoordinatorGrain> logger) : Grain, IJobCoordinatorGrain, IRemindable
{
    const string KeepAliveReminder = "job-keepalive";
    readonly SchedulerOptions options = schedulerOptions.Value;
    bool finalizing;
    /// <summary>Whether this activation has placed the job in its tenant's index (the submit's call, or <see cref="PlaceInIndexAsync"/>).</summary>
    bool indexed;
    /// <summary>A Submit call is running (it is not interleaved, so at most one): see <see cref="ExistsOrIsSubmitting"/>.</summary>
    bool submitting;
    string? siloName;
    CoalescedWriter? persistence;
    DoneItemStore? doneItems;
    ProgressThrottle? progressThrottle;

    JobRecord Job => job.State;
    /// <summary>"{tenant}/{jobId}" (<see cref="JobKey"/>): what the scheduler and workers know the job by.</summary>
    string Key => this.GetPrimaryKeyString();
    /// <summary>The tenant's own id for the job: what the tenant, its index, blobs and the manifest see.</summary>
    string JobId => JobKey.Parse(Key).JobId;
    ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(0);
    CoalescedWriter Writer => persistence ??= new CoalescedWriter(WriteStateAsync);
    /// <summary>The done items' records, beside the job's (same storage provider, this grain's id).</summary>
    DoneItemStore DoneItems => doneItems ??= new DoneItemStore(ServiceProvider.GetRequiredKeyedService<IGrainStorage>("jobs"), this.GetGrainId());

    /// <summary>
    /// Writes the job's record once every done item's record is stored, so that no stored job state counts an item
    /// done (or the job Finalizing) whose frames' records were lost. One log line per failed write (the storage
    /// provider logged its stack); every awaiter of it logs at Debug.
    /// </summary>
    async Task WriteStateAsync()
    {
        try
        {
            await DoneItems.DrainAsync();
            await job.WriteOwnStateAsync();
        }
        catch (Exception e) { logger.Failure(e, withStack: false, "Job {Job}: storing its state failed", JobId); throw; }
    }
    ProgressThrottle Progress => progressThrottle ??= new ProgressThrottle(options.OfferInterval, TimeProvider.System);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!Job.Exists) return;
        Job.Restore(await DoneItems.ReadAllAsync(Job.Items.Count));
        if (!Job.IsTerminal) StartHeartbeat();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (persistence is not null) await QuietlyAsync(persistence.DrainAsync());
        if (doneItems is not null) await QuietlyAsync(doneItems.DrainAsync());
    }

    public async Task<SubmitResult> Submit(JobSpec spec, string tenant)
    {
        submitting = true;
        try { return await SubmitAsync(spec, tenant); }
        finally { submitting = false; }
    }

    public Task<bool> ExistsOrIsSubmitting() => Task.FromResult(Job.Exists || submitting);

    async Task<SubmitResult> SubmitAsync(JobSpec spec, string tenant)
    {
        if (Job.Exists)
            return SubmitResult.Rejected(Rejection.Conflict("jobId", $"'{JobId}' already exists"));
        if (JobKey.Parse(Key).Tenant != tenant)
            return SubmitResult.Rejected(Rejection.Invalid("tenant", $"the job's key is for tenant '{JobKey.Parse(Key).Tenant}', not '{tenant}'"));
        var (model, errors) = await JobSpecChecks.ValidateAsync(spec, limits.Value, catalog);
        if (errors.Count > 0) return SubmitResult.Rejected(Rejection.Invalid(errors));

        // The index position first: a submit that fails from here on leaves an empty position, never a job listed twice.
        long position = await Index(tenant).Reserve();
        Job.Open(JobId, spec, tenant, spec.ItemFrames ?? model!.DefaultItemFrames, model!.NumClasses, DateTime.UtcNow);
        Job.IndexPosition = position;
        await Writer.PersistAsync();
        // The job exists from here on (a retried submit finds it), so the heartbeat that offers its items starts now:
        // a call below that fails (its grain's silo was just killed) must not leave a live Queued job nobody offers.
        StartHeartbeat();
        // The reminder before the index: if the index call fails and this silo dies, the reminder re-activates the job,
        // whose heartbeat (or, once it ended, EndedAsync) places it.
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        await Index(tenant).Place(position, JobId);
        indexed = true;
        await Scheduler.Offer(Job.PendingWorkItems(JobId));
        logger.LogInformation("Job {Job} ({Tenant}) accepted: {Frames} frames in {Items} items", JobId, tenant, spec.Frames, Job.Items.Count);
        return SubmitResult.Of(Job.ToStatus(JobId));
    }

    public Task<JobStatus?> GetStatus() =>
        Task.FromResult(Job.Exists ? Job.ToStatus(JobId) with { CoordinatorSilo = SiloName } : null);

    /// <summary>Operators and chaos tests need to know where the job's coordinator lives; resolved lazily so the constructor stays as is.</summary>
    string SiloName => siloName ??= ServiceProvider.GetRequiredService<ILocalSiloDetails>().Name;

    public async Task<bool> Cancel()
    {
        if (!Job.Cancel(DateTime.UtcNow)) return false;
        await EndWithdrawnAsync();
        logger.LogInformation("Job {Job} cancelled", JobId);
        return true;
    }

    public Task ItemLeased(int itemIndex, int attempt, string workerId)
    {
        Job.Lease(itemIndex, attempt, workerId, DateTime.UtcNow);
        return Task.CompletedTask; // soft progress only: not worth a storage write
    }

    public async Task ItemCompleted(ItemResult result)
    {
        var before = (Job.State, Job.StartedAt, Job.Warnings.Count);
        switch (Job.Complete(result, DateTime.UtcNow))
        {
            case CompletionOutcome.Ignored:
                return;
            case CompletionOutcome.WrongFrames:
                metrics.ItemFailed(Job.Tenant, FailureReason.WrongFrames);
                await ItemFailed(result.ItemIndex, result.Attempt, result.WorkerId, "worker reported the wrong frames");
                return;
            case CompletionOutcome.LastStored:
                _ = QuietlyAsync(DoneItems.WriteAsync(Job.DoneItemOf(result.ItemIndex)));
                await Writer.PersistAsync(); // after every item's record: see WriteStateAsync
                ScheduleFinalize();
                break;
            case CompletionOutcome.Stored:
                // Acknowledged before stored: if this silo dies first, the item has no record and re-runs on
                // re-activation with identical bytes. Only the item's own record is written (O(its frames)); the job's
                // record only when the job itself changed (started, or a warning), rarely.
                _ = QuietlyAsync(DoneItems.WriteAsync(Job.DoneItemOf(result.ItemIndex)));
                if ((Job.State, Job.StartedAt, Job.Warnings.Count) != before) _ = PersistInBackgroundAsync();
                break;
        }
        metrics.FramesCompleted(Job.Tenant, Job.Spec!.ModelId, Job.Items[result.ItemIndex].FrameCount);
        if (Progress.Changed()) await ReportProgressAsync();
    }

    public async Task ItemFailed(int itemIndex, int attempt, string workerId, string reason)
    {
        var outcome = Job.Fail(itemIndex, attempt, workerId, reason, options.MaxAttempts, options.BlocklistAfterFailures, DateTime.UtcNow);
        if (outcome == FailureOutcome.Ignored) return;
        logger.LogWarning("Job {Job} item {Batch} attempt {Attempt} failed on {Worker}: {Reason}", JobId, itemIndex, attempt, workerId, reason);
        if (outcome == FailureOutcome.JobFailed)
        {
            await EndWithdrawnAsync();
            return;
        }
        if (outcome == FailureOutcome.RetriedAndBlocklisted) await Scheduler.Blocklist(Key, workerId);
        await Writer.PersistAsync();
        metrics.ItemRetried(Job.Tenant);
        await Scheduler.Offer([Job.ToWorkItem(JobId, itemIndex)]);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Job.IsTerminal) await EndedAsync();
        else if (!Job.Exists) await StopKeepAliveAsync();
        // Otherwise activation already restarted the heartbeat, which re-offers pending items.
    }

    /// <summary>The job was cancelled or failed: stores that, counts it, and takes its queued items off the scheduler.</summary>
    async Task EndWithdrawnAsync()
    {
        await Writer.PersistAsync();
        metrics.JobCompleted(Job.Tenant, Job.State);
        await Scheduler.Withdraw(Key);
        await EndedAsync();
    }

    void StartHeartbeat()
    {
        this.RegisterGrainTimer(HeartbeatAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero, Period = options.OfferInterval, KeepAlive = true,
        });
    }

    /// <summary>
    /// Re-offers every pending item on each beat. The scheduler ignores items it already holds (queued or
    /// leased), so this only restores items it lost: a new scheduler activation, or a lease whose worker could
    /// not report back. Also resumes an interrupted finalization.
    /// </summary>
    async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        // A submit whose index call failed (that grain's silo was just killed) left a job `list` would not show; the
        // client's retry then found the job and never submitted again. Placing is idempotent, so each activation does it once.
        await PlaceInIndexAsync();
        if (Job.IsTerminal) return;
        if (Writer.Dirty || DoneItems.Dirty) await PersistInBackgroundAsync();
        if (Progress.Dirty) await ReportProgressAsync();
        if (Job.State == JobState.Finalizing)
        {
            ScheduleFinalize();
            return;
        }
        await Scheduler.Offer(Job.PendingWorkItems(JobId));
    }

    void ScheduleFinalize()
    {
        if (finalizing) return;
        finalizing = true;
        this.RegisterGrainTimer(FinalizeAsync, new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = Timeout.InfiniteTimeSpan });
    }

    async Task FinalizeAsync(CancellationToken cancellationToken)
    {
        // A cancel may have come between scheduling and this turn; a cancelled job writes no outputs.
        if (Job.State != JobState.Finalizing) return;
        try
        {
            var (manifestBlob, video, completedAt) = await ManifestWriter.WriteOutputsAsync(blobs, JobId, Job, cancellationToken);
            Job.Finish(manifestBlob, video?.Blob, completedAt);
            await Writer.PersistAsync();
            metrics.JobCompleted(Job.Tenant, Job.State);
            await EndedAsync();
            logger.LogInformation("Job {Job} completed: {Frames} frames, manifest {Manifest}", JobId, Job.Frames.Length, manifestBlob);
        }
        catch (Exception e)
        {
            // Storage or ffmpeg trouble: the heartbeat tries again; the manifest is only written on success.
            logger.Failure(e, withStack: true, "Finalizing job {Job} failed; will retry", JobId);
            finalizing = false;
        }
    }

    Task PersistInBackgroundAsync() => QuietlyAsync(Writer.PersistAsync());

    /// <summary>A write-behind store that may fail: the next beat writes again; if it never lands, pending items re-run.</summary>
    async Task QuietlyAsync(Task write)
    {
        try { await write; }
        catch (Exception e) { logger.Failure(e, withStack: true, "Job {Job}: storing progress failed; the next beat retries (if lost, pending items re-run)", JobId); }
    }

    async Task StopKeepAliveAsync()
    {
        try
        {
            var reminder = await this.GetReminder(KeepAliveReminder);
            if (reminder is not null) await this.UnregisterReminder(reminder);
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "Could not unregister reminder of job {Job}", JobId);
        }
    }
}
