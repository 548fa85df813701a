using System.Diagnostics;
using System.Security.Cryptography;
using BlobStorage;
using Grains.Interfaces;
using Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Scm.Images;

namespace Grains.Workers;

/// <summary>
/// The second stage of a <see cref="WorkerGrain"/>: encodes a sampled lease's frames as PNGs, writes them to blob
/// storage, reports every item to its coordinator and releases the lease to the scheduler. It runs on the worker's
/// activation, interleaved with the sampling loop, so the device samples the next lease while this one is stored.
/// Every item ends in exactly one report: completed (frames stored) or failed (the coordinator retries it). If the
/// silo stops mid-way the lease is not released; it expires and the scheduler returns its items.
/// </summary>
public sealed class StoreAndReportStage(
    string workerId, string device, int encodeParallelism, IGrainFactory grains, IBlobStore blobs, WorkerCounters counters,
    GenerationMetrics metrics, ILogger logger)
{
    /// <summary>Writes of one item's frames in flight at once.</summary>
    const int StoreParallelism = 8;

    /// <summary>The frames' provenance (<see cref="DeviceKinds"/>): with the compute chunk, what a frame's bits depend on.</summary>
    readonly string deviceKind = DeviceKinds.Of(device);

    ISchedulerGrain Scheduler => grains.GetGrain<ISchedulerGrain>(0);

    /// <summary>Takes ownership of <paramref name="sampled"/> and of the lease's <paramref name="keepAlive"/>. Never throws: failures become item reports.</summary>
    public async Task FinishAsync(SampledLease sampled, IDisposable keepAlive, CancellationToken cancellationToken)
    {
        using (keepAlive)
        using (sampled)
        {
            try
            {
                foreach (var batch in sampled.Batches)
                    sampled.Outcomes.AddRange(await FinishBatchAsync(batch, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return; // stopping: the unreleased lease expires and its items are retried
            }
        }
        try { await Scheduler.Release(sampled.Lease.LeaseId, workerId, sampled.Outcomes.ToArray()); }
        catch (Exception e) { logger.LogWarning(e, "Worker {Worker}: releasing lease {Lease} failed (it will expire)", workerId, sampled.Lease.LeaseId); }
    }

    /// <summary>
    /// Renews a lease every 10 s from its grant until disposed: sampling, waiting behind the previous lease and storing
    /// a GPU-sized lease may outlast Scheduler:LeaseTimeout (60 s), and an expired lease would be run again elsewhere
    /// while this worker still writes its frames. A dead worker stops renewing, so its leases still expire.
    /// </summary>
    public IDisposable KeepAlive(Guid leaseId)
    {
        var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        var scheduler = Scheduler;
        _ = RenewAsync();
        return timer;

        async Task RenewAsync()
        {
            try
            {
                while (await timer.WaitForNextTickAsync())
                    if (!await scheduler.Renew(leaseId, workerId)) return;
            }
            catch (Exception e) { logger.LogDebug(e, "Worker {Worker}: renewing lease {Lease} failed", workerId, leaseId); }
        }
    }

    async Task<List<LeaseOutcome>> FinishBatchAsync(SampledBatch batch, CancellationToken cancellationToken)
    {
        var items = batch.Items;
        int totalFrames = items.Sum(i => i.FrameCount);
        double Share(WorkItem item) => batch.Seconds * item.FrameCount / totalFrames;
        var outcomes = new List<LeaseOutcome>();
        byte[][][] pngs;
        try
        {
            pngs = batch.Pngs ?? await Task.Run(() => Encode(batch, encodeParallelism), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            counters.LastError = e.Message;
            logger.LogWarning(e, "Worker {Worker}: encoding a batch of {Items} items failed", workerId, items.Count);
            foreach (var item in items) outcomes.Add(await FailAsync(item, FailureReason.Store, $"encoding failed: {e.Message}", Share(item)));
            return outcomes;
        }
        finally
        {
            batch.Dispose(); // the images are no longer needed, whatever happened
        }

        for (int i = 0; i < items.Count; i++)
            outcomes.Add(await StoreAndReportAsync(items[i], pngs[i], batch, Share(items[i]), cancellationToken));
        metrics.BatchStored(batch.Model, device, Stopwatch.GetElapsedTime(batch.StartedTimestamp));
        return outcomes;
    }

    /// <summary>Stores one item's frames and reports it completed, or reports it failed.</summary>
    async Task<LeaseOutcome> StoreAndReportAsync(WorkItem item, byte[][] pngs, SampledBatch batch, double share, CancellationToken cancellationToken)
    {
        try
        {
            var frames = await StoreAsync(item, pngs, batch.Setup, cancellationToken);
            await Coordinator(item).ItemCompleted(new ItemResult
            {
                ItemIndex = item.ItemIndex, Attempt = item.Attempt, WorkerId = workerId, Frames = frames, DeviceSeconds = share,
            });
            counters.FramesDone += item.FrameCount;
            return Outcome(item, true, share);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            counters.LastError = e.Message;
            logger.LogWarning(e, "Worker {Worker}: storing or reporting {Job}/{Batch} failed", workerId, item.JobId, item.ItemIndex);
            return await FailAsync(item, FailureReason.Store, $"store/report failed: {e.Message}", share);
        }
    }

    /// <summary>PNGs per item at each job's output size.</summary>
    static byte[][][] Encode(SampledBatch batch, int parallelism)
    {
        var pngs = new byte[batch.Items.Count][][];
        long offset = 0;
        for (int i = 0; i < batch.Items.Count; i++)
        {
            var item = batch.Items[i];
            using var slice = batch.Images.narrow(0, offset, item.FrameCount);
            var filter = item.Spec.Resize == "nearest" ? ResizeFilter.Nearest : ResizeFilter.Bilinear;
            pngs[i] = PngEncoder.EncodeBatch(slice, item.Spec.OutputSize, filter, parallelism);
            offset += item.FrameCount;
        }
        return pngs;
    }

    async Task<FrameResult[]> StoreAsync(WorkItem item, byte[][] pngs, SamplingSetup? setup, CancellationToken cancellationToken)
    {
        var frames = new FrameResult[pngs.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, pngs.Length),
            new ParallelOptions { MaxDegreeOfParallelism = StoreParallelism, CancellationToken = cancellationToken },
            async (k, ct) =>
            {
                int index = item.FirstFrame + k;
                var blob = WorkItem.FrameBlob(item.BlobPrefix, index);
                await blobs.PutAsync(blob, pngs[k], "image/png", ct);
                frames[k] = new FrameResult
                {
                    Index = index, Blob = blob, Sha256 = Convert.ToHexStringLower(SHA256.HashData(pngs[k])), Bytes = pngs[k].Length,
                    DeviceKind = deviceKind, ComputeChunk = setup?.ComputeChunk ?? 0, Precision = setup?.Precision,
                };
            });
        return frames;
    }

    /// <summary>Reports a failed attempt (best effort: an unreported attempt comes back when its lease expires).</summary>
    public async Task<LeaseOutcome> FailAsync(WorkItem item, string failure, string reason, double seconds = 0)
    {
        metrics.ItemFailed(item.Tenant, failure);
        await Quietly(() => Coordinator(item).ItemFailed(item.ItemIndex, item.Attempt, workerId, reason));
        return Outcome(item, false, seconds);
    }

    public async Task Quietly(Func<Task> call)
    {
        try { await call(); }
        catch (Exception e) { logger.LogDebug(e, "Worker {Worker}: best-effort call failed", workerId); }
    }

    public IJobCoordinatorGrain Coordinator(WorkItem item) => grains.GetGrain<IJobCoordinatorGrain>(item.JobKey);

    static LeaseOutcome Outcome(WorkItem item, bool succeeded, double seconds) => new()
    {
        JobId = item.JobId, Tenant = item.Tenant, ItemIndex = item.ItemIndex, Succeeded = succeeded, DeviceSeconds = seconds, Frames = item.FrameCount,
    };
}
