using System.Diagnostics;
using Grains.Interfaces;
using Grains.Options;
using Grains.Placement;
using Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Grains.Scheduling;

/// <summary>
/// The cluster's work queue and lease table (see <see cref="ISchedulerGrain"/>). Workers long-poll for leases;
/// a lease that is not released in time, or whose worker's silo leaves the cluster, is expired and its items
/// reported to their coordinators as failed attempts (the coordinators decide to retry).
/// </summary>
public sealed class SchedulerGrain : Grain, ISchedulerGrain
{
    sealed record LeaseRecord(Guid Id, string WorkerId, string SiloName, WorkItem[] Items, DateTime ExpiresAt, double ProvisionalSeconds);
    sealed record Waiter(LeaseRequest Request, TaskCompletionSource<WorkLease?> Completion);

    readonly SchedulerOptions options;
    readonly IClusterMembershipService membership;
    readonly ILogger<SchedulerGrain> logger;
    readonly GenerationMetrics metrics;
    readonly FairShareQueue queue;
    readonly Dictionary<Guid, LeaseRecord> leases = new();
    readonly HashSet<ItemAttempt> leasedKeys = new();
    /// <summary>
    /// Items released as done, for a few offer intervals: a heartbeat's re-offer computed before the item completed
    /// can arrive after its release and would otherwise run it again (3 % of leases in bench scale at 256 jobs).
    /// A coordinator that really lost the completion re-offers on a later beat, after the entry has aged out.
    /// </summary>
    readonly Dictionary<ItemAttempt, DateTime> recentlyDone = new();
    readonly List<Waiter> waiters = new();
    readonly Dictionary<string, WorkerInfo> workers = new();
    double secondsPerFrameEstimate = 0.01;
    long leasesGranted, leasesExpired;

    public SchedulerGrain(IOptions<SchedulerOptions> options, IClusterMembershipService membership, ILogger<SchedulerGrain> logger,
        GenerationMetrics metrics)
    {
        this.metrics = metrics;
        this.options = options.Value;
        this.membership = membership;
        this.logger = logger;
        queue = new FairShareQueue(this.options.FairShareHalfLife, TimeProvider.System);
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var (tenant, weight) in await GrainFactory.GetGrain<ITenantDirectoryGrain>(0).Weights()) queue.SetWeight(tenant, weight);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Scheduler: could not load tenant weights; using 1 until set");
        }
        this.RegisterGrainTimer(ExpireLeasesAsync, new GrainTimerCreationOptions
        {
            DueTime = options.ExpiryScanInterval, Period = options.ExpiryScanInterval, KeepAlive = true,
        });
        logger.LogInformation("Scheduler activated; coordinators will re-offer their pending work");
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.PublishScheduler(null, 0); // the next activation, maybe on another silo, exports the gauges
        return Task.CompletedTask;
    }

    public Task SetWeight(string tenant, double weight)
    {
        queue.SetWeight(tenant, weight);
        return Task.CompletedTask;
    }

    public Task Offer(WorkItem[] items)
    {
        long start = Stopwatch.GetTimestamp();
        foreach (var item in items)
            if (!leasedKeys.Contains(item.AttemptKey) && !recentlyDone.ContainsKey(item.AttemptKey))
                queue.Add(item);
        ServeWaiters();
        metrics.SchedulerCallTook(SchedulerCall.Offer, Stopwatch.GetElapsedTime(start).TotalSeconds);
        return Task.CompletedTask;
    }

    public Task Withdraw(string jobKey)
    {
        queue.RemoveJob(jobKey);
        return Task.CompletedTask;
    }

    public Task Blocklist(string jobKey, string workerId)
    {
        queue.Blocklist(jobKey, workerId);
        return Task.CompletedTask;
    }

    public async Task<WorkLease?> Lease(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        Seen(request);
        var lease = TryGrant(request);
        if (lease is not null || request.Wait <= TimeSpan.Zero)
        {
            metrics.SchedulerCallTook(SchedulerCall.Lease, Stopwatch.GetElapsedTime(start).TotalSeconds);
            return lease;
        }
        var waiter = new Waiter(request, new TaskCompletionSource<WorkLease?>(TaskCreationOptions.RunContinuationsAsynchronously));
        waiters.Add(waiter);
        // The wait is not the scheduler's work: measured are the two synchronous parts, before and after it.
        var ownTime = Stopwatch.GetElapsedTime(start);
        var finished = await Task.WhenAny(waiter.Completion.Task, Task.Delay(request.Wait, cancellationToken));
        start = Stopwatch.GetTimestamp();
        if (finished != waiter.Completion.Task) waiters.Remove(waiter);
        metrics.SchedulerCallTook(SchedulerCall.Lease, (ownTime + Stopwatch.GetElapsedTime(start)).TotalSeconds);
        // A grant may have raced with the timeout; never drop a granted lease.
        return waiter.Completion.Task.IsCompleted ? await waiter.Completion.Task : null;
    }

    public Task<bool> Renew(Guid leaseId, string workerId)
    {
        if (!leases.TryGetValue(leaseId, out var lease) || lease.WorkerId != workerId) return Task.FromResult(false);
        leases[leaseId] = lease with { ExpiresAt = DateTime.UtcNow + options.LeaseTimeout };
        return Task.FromResult(true);
    }

    public Task Release(Guid leaseId, string workerId, LeaseOutcome[] outcomes)
    {
        long start = Stopwatch.GetTimestamp();
        if (leases.Remove(leaseId, out var lease))
        {
            var now = DateTime.UtcNow;
            foreach (var item in lease.Items)
            {
                leasedKeys.Remove(item.AttemptKey);
                if (outcomes.Any(o => o.Succeeded && o.JobId == item.JobId && o.Tenant == item.Tenant && o.ItemIndex == item.ItemIndex))
                    recentlyDone[item.AttemptKey] = now;
            }
            double actual = outcomes.Sum(o => o.DeviceSeconds);
            int frames = outcomes.Where(o => o.Succeeded).Sum(o => o.Frames);
            if (frames > 0) secondsPerFrameEstimate = 0.8 * secondsPerFrameEstimate + 0.2 * (actual / frames);
            // Replace the provisional charge made at grant time with what the worker measured.
            foreach (var group in lease.Items.GroupBy(i => i.Tenant))
            {
                double provisional = lease.ProvisionalSeconds * group.Sum(i => i.FrameCount) / Math.Max(1, lease.Items.Sum(i => i.FrameCount));
                double measured = outcomes.Where(o => o.Tenant == group.Key).Sum(o => o.DeviceSeconds);
                queue.Charge(group.Key, measured - provisional);
            }
        }
        if (workers.TryGetValue(workerId, out var info))
            workers[workerId] = info with
            {
                FramesDone = info.FramesDone + outcomes.Where(o => o.Succeeded).Sum(o => o.Frames),
                BusySeconds = info.BusySeconds + outcomes.Sum(o => o.DeviceSeconds),
            };
        ServeWaiters();
        metrics.SchedulerCallTook(SchedulerCall.Release, Stopwatch.GetElapsedTime(start).TotalSeconds);
        return Task.CompletedTask;
    }

    public Task<SchedulerSnapshot> Snapshot() => Task.FromResult(new SchedulerSnapshot
    {
        Tenants = queue.Snapshot(),
        LeasesOutstanding = leases.Count,
        LeasesExpired = leasesExpired,
        LeasesGranted = leasesGranted,
        Workers = workers.Values.OrderBy(w => w.WorkerId, StringComparer.Ordinal).ToArray(),
        Leases = leases.Values.OrderBy(l => l.WorkerId, StringComparer.Ordinal).Select(l => new LeaseInfo
        {
            LeaseId = l.Id, WorkerId = l.WorkerId, ExpiresAt = l.ExpiresAt,
            Jobs = l.Items.GroupBy(i => (i.Tenant, i.JobId))
                .Select(g => new LeaseJob { Tenant = g.Key.Tenant, JobId = g.Key.JobId, Frames = g.Sum(i => i.FrameCount) }).ToArray(),
        }).ToArray(),
    });

    WorkLease? TryGrant(LeaseRequest request)
    {
        var items = queue.Take(request.WorkerId, request.MaxFrames, workers.Keys);
        if (items.Count == 0) return null;
        int frames = items.Sum(i => i.FrameCount);
        double provisional = frames * secondsPerFrameEstimate;
        foreach (var group in items.GroupBy(i => i.Tenant))
            queue.Charge(group.Key, provisional * group.Sum(i => i.FrameCount) / frames);
        var record = new LeaseRecord(Guid.NewGuid(), request.WorkerId, request.SiloName, items.ToArray(),
            DateTime.UtcNow + options.LeaseTimeout, provisional);
        leases[record.Id] = record;
        foreach (var item in items) leasedKeys.Add(item.AttemptKey);
        leasesGranted++;
        metrics.LeaseGranted();
        return new WorkLease { LeaseId = record.Id, Items = record.Items, ExpiresAt = record.ExpiresAt };
    }

    void ServeWaiters()
    {
        for (int i = 0; i < waiters.Count && queue.Count > 0;)
        {
            var lease = TryGrant(waiters[i].Request);
            if (lease is null) { i++; continue; }
            var waiter = waiters[i];
            waiters.RemoveAt(i);
            waiter.Completion.TrySetResult(lease);
        }
    }

    void Seen(LeaseRequest request)
    {
        workers[request.WorkerId] = workers.TryGetValue(request.WorkerId, out var info)
            ? info with { LastSeen = DateTime.UtcNow, LoadedModel = request.LoadedModel ?? info.LoadedModel }
            : new WorkerInfo
            {
                WorkerId = request.WorkerId, SiloName = request.SiloName, Device = WorkerKey.DeviceOf(request.WorkerId),
                LastSeen = DateTime.UtcNow, LoadedModel = request.LoadedModel,
            };
    }

    Task ExpireLeasesAsync(CancellationToken cancellationToken)
    {
        metrics.PublishScheduler(queue.Snapshot(), leases.Count);
        long start = Stopwatch.GetTimestamp();
        var now = DateTime.UtcNow;
        foreach (var key in recentlyDone.Where(e => now - e.Value > 2 * options.OfferInterval).Select(e => e.Key).ToList())
            recentlyDone.Remove(key);
        var alive = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet();
        var expired = leases.Values.Where(l => l.ExpiresAt <= now || !alive.Contains(l.SiloName)).ToList();
        foreach (var silo in workers.Values.Where(w => !alive.Contains(w.SiloName)).Select(w => w.WorkerId).ToList())
            workers.Remove(silo);
        metrics.SchedulerCallTook(SchedulerCall.ExpiryScan, Stopwatch.GetElapsedTime(start).TotalSeconds);
        foreach (var lease in expired)
        {
            leases.Remove(lease.Id);
            leasesExpired++;
            metrics.LeaseExpired(siloLeft: !alive.Contains(lease.SiloName));
            string reason = alive.Contains(lease.SiloName)
                ? $"lease expired after {options.LeaseTimeout.TotalSeconds:F0} s on worker {lease.WorkerId}"
                : $"silo {lease.SiloName} of worker {lease.WorkerId} left the cluster";
            logger.LogWarning("Lease {Lease}: {Reason}; returning {Items} items", lease.Id, reason, lease.Items.Length);
            foreach (var item in lease.Items)
            {
                leasedKeys.Remove(item.AttemptKey);
                metrics.ItemFailed(item.Tenant, alive.Contains(lease.SiloName) ? FailureReason.LeaseTimeout : FailureReason.SiloLeft);
                ReportExpired(item, lease.WorkerId, reason);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tells the coordinator without awaiting it in this grain's turn: its ItemFailed calls back into the scheduler
    /// (Offer, Blocklist, Withdraw), and a timer turn awaiting it blocked those calls, a cycle that only Orleans' 30 s
    /// response timeout broke, stalling every worker of the cluster after a silo died (found by ProcessChaosTests).
    /// Reports are attempt-checked, so a late one is harmless; a lost one costs nothing either: the coordinator's
    /// heartbeat re-offers every item that is not done.
    /// </summary>
    void ReportExpired(WorkItem item, string workerId, string reason)
    {
        var report = GrainFactory.GetGrain<IJobCoordinatorGrain>(item.JobKey).ItemFailed(item.ItemIndex, item.Attempt, workerId, reason);
        _ = report.ContinueWith(
            failed => logger.LogWarning(failed.Exception, "Could not report expired item {Job}/{Batch}", item.JobId, item.ItemIndex),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
