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

    ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(0);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        workerId = this.GetPrimaryKeyString();
        device = WorkerKey.DeviceOf(workerId);
        if (WorkerKey.SiloOf(workerId) != silo.Name)
            throw new InvalidOperationException($"Worker '{workerId}' activated on silo '{silo.Name}'; it belongs on '{WorkerKey.SiloOf(workerId)}'.");
        stage = new StoreAndReportStage(workerId, device, deviceOptions.Value.EncodeParallelism, GrainFactory, blobs, counters, metrics, logger);
        return Task.CompletedTask;
    }

    public Task Start()
    {
        if (!started)
        {
            started = true;
            this.RegisterGrainTimer(RunAsync, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.Zero, Period = TimeSpan.FromSeconds(1), Interleave = true, KeepAlive = true,
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

    async Task RunAsync(CancellationToken timerToken)
    {
        // Stop pulling as soon as the silo starts shutting down: an in-flight lease call to a departing
        // scheduler would otherwise hold up shutdown until the response timeout.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(timerToken, lifetime.ApplicationStopping);
        var cancellationToken = stopping.Token;
        // The store/report stage of the previous lease; it never throws.
        Task storing = Task.CompletedTask;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var lease = await LeaseAsync(cancellationToken);
                if (lease is null) continue;
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
                storing = stage.FinishAsync(sampled, keepAlive, cancellationToken);
            }
        }
        finally
        {
            // Never leave the stage running past this tick; on shutdown it returns as soon as it sees the token.
            await storing;
        }
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
