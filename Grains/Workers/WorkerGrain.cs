using BlobStorage;
using Grains.Interfaces;
using Grains.Options;
using Grains.Placement;
using Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Grains.Workers;

/// <summary>
/// Owns one device of one silo (key "{siloName}/{device}", pinned there by <see cref="DevicePlacementAttribute"/>).
/// Pulls leases from the scheduler and samples all their frames in one network batch; a
/// <see cref="StoreAndReportStage"/> then encodes and stores the PNGs and reports each item to its coordinator.
/// The two stages overlap: while lease k is stored and reported, lease k+1 is leased and sampled. At most one
/// lease waits behind the sampler, so a slow store holds the sampler back (backpressure) and a crash loses only
/// work that leases still cover (they expire and their items are retried). Tensor work runs on the thread pool,
/// never on Orleans' scheduler.
/// </summary>
[DevicePlacement]
public sealed class WorkerGrain(
    IDeviceRunner runner,
    IBlobStore blobs,
    IFaultInjector faults,
    ILocalSiloDetails silo,
    IOptions<DeviceOptions> deviceOptions,
    IHostApplicationLifetime lifetime,
    GenerationMetrics metrics,
    ILogger<WorkerGrain> logger) : Grain, IWorkerGrain
{
    string workerId = "";
    string device = "";
    bool started;
    string? loadedModel;
    readonly WorkerCounters counters = new();
    StoreAndReportStage stage = null!;
    IGrainTimer? timer;
    /// <summary>Cancelled when the silo stops or this activation has deactivated: ends an unfinished store/report stage.</summary>
    CancellationTokenSource stopping = null!;
    /// <summary>The store/report stage of the last sampled lease; it outlives the tick that started it and never throws.</summary>
    Task storing = Task.CompletedTask;

    ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(0);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        workerId = this.GetPrimaryKeyString();
        device = WorkerKey.DeviceOf(workerId);
        if (WorkerKey.SiloOf(workerId) != silo.Name)
            throw new InvalidOperationException($"Worker '{workerId}' activated on silo '{silo.Name}'; it belongs on '{WorkerKey.SiloOf(workerId)}'.");
        stage = new StoreAndReportStage(workerId, device, deviceOptions.Value.EncodeParallelism, GrainFactory, blobs, counters, metrics, logger);
        stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        return Task.CompletedTask;
    }

    /// <summary>Lets the last lease's store/report stage finish (within Orleans' deactivation timeout), then stops it.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(stopping.Cancel))
            await storing.WaitAsync(cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        stopping.Cancel();
        // A stage that ignored the cancellation may still hold the token; the silo's stop disposes nothing else of ours.
        if (storing.IsCompleted) stopping.Dispose();
    }

    public Task Start()
    {
        if (!started)
        {
            started = true;
            // One lease per tick (see RunOnceAsync); the next tick follows at once.
            timer = this.RegisterGrainTimer(RunOnceAsync, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.Zero, Period = TickGap, Interleave = true, KeepAlive = true,
            });
            logger.LogInformation("Worker {Worker} started", workerId);
        }
        return Task.CompletedTask;
    }

    public Task<WorkerInfo> GetInfo() => Task.FromResult(new WorkerInfo
    {
        WorkerId = workerId, SiloName = silo.Name, Device = device, LastSeen = DateTime.UtcNow, FramesDone = counters.FramesDone,
        BusySeconds = counters.BusySeconds, LoadedModel = loadedModel, LastError = counters.LastError,
    });

    /// <summary>Pause between two ticks of the lease loop.</summary>
    static readonly TimeSpan TickGap = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// One round of the lease loop: lease (a long poll of at most LeaseRequest.Wait), sample, and hand the lease to the
    /// store/report stage, which runs on while the next tick leases and samples the next one. Each tick must end: Orleans
    /// runs a requested deactivation (e.g. when the silo that held this activation's grain-directory entry dies, or a
    /// duplicate activation is found) only once no request or timer tick of the activation is running, and holds every
    /// call to a deactivating activation until then. A tick that looped for ever (issue 16, item 7) left the worker
    /// sampling but deactivating for good, and every Start()/GetInfo() call to it timed out.
    /// </summary>
    async Task RunOnceAsync(CancellationToken timerToken)
    {
        // Stop pulling as soon as the silo starts shutting down: an in-flight lease call to a departing
        // scheduler would otherwise hold up shutdown until the response timeout.
        using var tick = CancellationTokenSource.CreateLinkedTokenSource(timerToken, stopping.Token);
        var cancellationToken = tick.Token;
        if (cancellationToken.IsCancellationRequested)
        {
            timer?.Dispose(); // stopping: no more ticks
            return;
        }
        var lease = await LeaseAsync(cancellationToken);
        if (lease is null) return;
        var keepAlive = stage.KeepAlive(lease.LeaseId);
        SampledLease sampled;
        try { sampled = await SampleAsync(lease, cancellationToken); }
        catch
        {
            keepAlive.Dispose();
            throw;
        }
        // Backpressure: the previous lease must be stored before this one is handed over.
        await storing;
        storing = stage.FinishAsync(sampled, keepAlive, stopping.Token);
    }

    /// <summary>The next lease (long poll), or null when there is none yet, the call failed, or we are stopping.</summary>
    async Task<WorkLease?> LeaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await Scheduler.Lease(new LeaseRequest
            {
                WorkerId = workerId, SiloName = silo.Name, MaxFrames = deviceOptions.Value.LeaseFramesFor(device), LoadedModel = loadedModel,
            }, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Worker {Worker}: lease request failed; retrying", workerId);
            try { await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken); }
            catch (OperationCanceledException) { }
            return null;
        }
    }

    /// <summary>Samples every group of the lease; items that fail before or during sampling are reported here.</summary>
    async Task<SampledLease> SampleAsync(WorkLease lease, CancellationToken cancellationToken)
    {
        var sampled = new SampledLease(lease);
        try
        {
            foreach (var group in lease.Items.GroupBy(i => i.SamplingKey))
                await SampleGroupAsync(group.ToList(), sampled, cancellationToken);
            return sampled;
        }
        catch
        {
            sampled.Dispose();
            throw;
        }
    }

    async Task SampleGroupAsync(List<WorkItem> items, SampledLease sampled, CancellationToken cancellationToken)
    {
        await Task.WhenAll(items.Select(i => stage.Quietly(() => stage.Coordinator(i).ItemLeased(i.ItemIndex, i.Attempt, workerId))));

        var runnable = new List<WorkItem>();
        foreach (var item in items)
        {
            var injected = await faults.BeforeItemAsync(item, workerId, cancellationToken);
            if (injected is null) runnable.Add(item);
            else sampled.Outcomes.Add(await stage.FailAsync(item, FailureReason.Injected, $"injected failure: {injected}"));
        }
        if (runnable.Count == 0) return;

        try
        {
            var batch = await runner.SampleAsync(device, runnable, cancellationToken);
            loadedModel = batch.Model;
            sampled.Batches.Add(batch);
            counters.BusySeconds += batch.Seconds;
            metrics.BatchSampled(batch.Model, device, runnable, batch.Seconds);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            counters.LastError = e.Message;
            logger.LogWarning(e, "Worker {Worker}: batch of {Items} items failed", workerId, runnable.Count);
            foreach (var item in runnable) sampled.Outcomes.Add(await stage.FailAsync(item, FailureReason.Sampling, e.Message));
        }
    }
}
