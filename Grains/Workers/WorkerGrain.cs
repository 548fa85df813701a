using System.Diagnostics;
using System.Security.Cryptography;
using BlobStorage;
using Grains.Interfaces;
using Grains.Jobs;
using Grains.Models;
using Grains.Options;
using Grains.Placement;
using Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Scm.Images;
using static TorchSharp.torch;

namespace Grains.Workers;

/// <summary>
/// Owns one device of one silo (key "{siloName}/{device}", pinned there by <see cref="DevicePlacementAttribute"/>).
/// Pulls leases from the scheduler, samples all their frames in one network batch, encodes and stores PNGs,
/// and reports each item to its coordinator. Tensor work runs on the thread pool, never on Orleans' scheduler.
/// </summary>
[DevicePlacement]
public sealed class WorkerGrain(
    ModelCache models,
    SimulatedDevices simulation,
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
    long framesDone;
    double busySeconds;
    string? loadedModel;
    string? lastError;

    ISchedulerGrain Scheduler => GrainFactory.GetGrain<ISchedulerGrain>(0);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        workerId = this.GetPrimaryKeyString();
        device = WorkerKey.DeviceOf(workerId);
        if (WorkerKey.SiloOf(workerId) != silo.Name)
            throw new InvalidOperationException($"Worker '{workerId}' activated on silo '{silo.Name}'; it belongs on '{WorkerKey.SiloOf(workerId)}'.");
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
        WorkerId = workerId, SiloName = silo.Name, Device = device, LastSeen = DateTime.UtcNow, FramesDone = framesDone,
        BusySeconds = busySeconds, LoadedModel = loadedModel, LastError = lastError,
    });

    async Task RunAsync(CancellationToken timerToken)
    {
        // Stop pulling as soon as the silo starts shutting down: an in-flight lease call to a departing
        // scheduler would otherwise hold up shutdown until the response timeout.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(timerToken, lifetime.ApplicationStopping);
        var cancellationToken = stopping.Token;
        while (!cancellationToken.IsCancellationRequested)
        {
            WorkLease? lease;
            try
            {
                lease = await Scheduler.Lease(new LeaseRequest
                {
                    WorkerId = workerId, SiloName = silo.Name, MaxFrames = deviceOptions.Value.MaxBatchFrames, LoadedModel = loadedModel,
                }, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Worker {Worker}: lease request failed; retrying", workerId);
                try { await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            if (lease is null) continue;
            var outcomes = new List<LeaseOutcome>();
            foreach (var group in lease.Items.GroupBy(i => i.BatchKey))
                outcomes.AddRange(await RunItemsAsync(group.ToList(), cancellationToken));
            try { await Scheduler.Release(lease.LeaseId, workerId, outcomes.ToArray()); }
            catch (Exception e) { logger.LogWarning(e, "Worker {Worker}: releasing lease {Lease} failed (it will expire)", workerId, lease.LeaseId); }
        }
    }

    async Task<List<LeaseOutcome>> RunItemsAsync(List<WorkItem> items, CancellationToken cancellationToken)
    {
        var outcomes = new List<LeaseOutcome>();
        await Task.WhenAll(items.Select(i => Quietly(() => Coordinator(i).BatchLeased(i.BatchIndex, i.Attempt, workerId))));

        var runnable = new List<WorkItem>();
        foreach (var item in items)
        {
            var injected = await faults.BeforeItemAsync(item, workerId, cancellationToken);
            if (injected is null) runnable.Add(item);
            else outcomes.Add(await FailAsync(item, FailureReason.Injected, $"injected failure: {injected}"));
        }
        if (runnable.Count == 0) return outcomes;

        string modelId;
        byte[][][] pngs;
        double seconds;
        long started;
        bool simulated = SimulatedDevices.IsSimulated(device);
        try
        {
            if (simulated)
            {
                // SIMULATION: a configured delay and placeholder frames instead of the model (bench scale).
                modelId = loadedModel = SimulatedDevices.ModelLabel;
                started = Stopwatch.GetTimestamp();
                (pngs, seconds) = await simulation.RunBatchAsync(runnable, cancellationToken);
            }
            else
            {
                var model = await models.GetAsync(runnable[0].Spec.ModelId, device, cancellationToken);
                modelId = loadedModel = model.Id;
                await model.Gate.WaitAsync(cancellationToken);
                started = Stopwatch.GetTimestamp();
                try { (pngs, seconds) = await Task.Run(() => SampleAndEncode(model, runnable, cancellationToken), cancellationToken); }
                finally { model.Gate.Release(); }
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            lastError = e.Message;
            logger.LogWarning(e, "Worker {Worker}: batch of {Items} items failed", workerId, runnable.Count);
            foreach (var item in runnable) outcomes.Add(await FailAsync(item, FailureReason.Sampling, e.Message));
            return outcomes;
        }
        busySeconds += seconds;
        metrics.BatchSampled(modelId, device, runnable, seconds);
        int totalFrames = runnable.Sum(i => i.FrameCount);

        for (int i = 0; i < runnable.Count; i++)
        {
            var item = runnable[i];
            double share = seconds * item.FrameCount / totalFrames;
            try
            {
                var frames = await StoreAsync(item, pngs[i], cancellationToken);
                await Coordinator(item).BatchCompleted(new BatchResult
                {
                    BatchIndex = item.BatchIndex, Attempt = item.Attempt, WorkerId = workerId, Frames = frames, DeviceSeconds = share,
                    Simulated = simulated,
                });
                framesDone += item.FrameCount;
                outcomes.Add(Outcome(item, true, share));
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = e.Message;
                logger.LogWarning(e, "Worker {Worker}: storing or reporting {Job}/{Batch} failed", workerId, item.JobId, item.BatchIndex);
                outcomes.Add(await FailAsync(item, FailureReason.Store, $"store/report failed: {e.Message}", share));
            }
        }
        metrics.BatchStored(modelId, device, Stopwatch.GetElapsedTime(started));
        return outcomes;
    }

    /// <summary>One network batch for all items; PNGs per item at each job's output size.</summary>
    static (byte[][][] Pngs, double Seconds) SampleAndEncode(LoadedModel model, List<WorkItem> items, CancellationToken cancellationToken)
    {
        int numClasses = model.Card.Network.NumClasses;
        var specs = items.SelectMany(item => Enumerable.Range(item.FirstFrame, item.FrameCount)
            .Select(frame => FramePlanner.Frame(item.Spec, frame, numClasses))).ToList();
        var clock = Stopwatch.StartNew();
        using var batch = model.Sampler.Sample(specs, FramePlanner.Schedule(items[0].Spec), cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        var pngs = new byte[items.Count][][];
        long offset = 0;
        for (int i = 0; i < items.Count; i++)
        {
            using var slice = batch.narrow(0, offset, items[i].FrameCount);
            var filter = items[i].Spec.Resize == "nearest" ? ResizeFilter.Nearest : ResizeFilter.Bilinear;
            pngs[i] = PngEncoder.EncodeBatch(slice, items[i].Spec.OutputSize, filter);
            offset += items[i].FrameCount;
        }
        return (pngs, seconds);
    }

    async Task<FrameResult[]> StoreAsync(WorkItem item, byte[][] pngs, CancellationToken cancellationToken)
    {
        var frames = new FrameResult[pngs.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, pngs.Length), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (k, ct) =>
            {
                int index = item.FirstFrame + k;
                var blob = WorkItem.FrameBlob(item.BlobPrefix, index);
                await blobs.PutAsync(blob, pngs[k], "image/png", ct);
                frames[k] = new FrameResult { Index = index, Blob = blob, Sha256 = Convert.ToHexStringLower(SHA256.HashData(pngs[k])), Bytes = pngs[k].Length };
            });
        return frames;
    }

    async Task<LeaseOutcome> FailAsync(WorkItem item, string failure, string reason, double seconds = 0)
    {
        metrics.ItemFailed(item.Tenant, failure);
        await Quietly(() => Coordinator(item).BatchFailed(item.BatchIndex, item.Attempt, workerId, reason));
        return Outcome(item, false, seconds);
    }

    static LeaseOutcome Outcome(WorkItem item, bool succeeded, double seconds) => new()
    {
        JobId = item.JobId, Tenant = item.Tenant, BatchIndex = item.BatchIndex, Succeeded = succeeded, DeviceSeconds = seconds, Frames = item.FrameCount,
    };

    IJobCoordinatorGrain Coordinator(WorkItem item) => GrainFactory.GetGrain<IJobCoordinatorGrain>(item.JobId);

    async Task Quietly(Func<Task> call)
    {
        try { await call(); }
        catch (Exception e) { logger.LogDebug(e, "Worker {Worker}: best-effort call failed", workerId); }
    }
}
