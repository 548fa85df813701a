using Grains.Interfaces;
using static TorchSharp.torch;

namespace Grains.Workers;

/// <summary>
/// A lease whose sampling is done, handed from the worker's sampling loop to its <see cref="StoreAndReportStage"/>.
/// Owns the sampled image tensors until the stage has encoded them (disposing it frees whatever is left).
/// </summary>
public sealed class SampledLease(WorkLease lease) : IDisposable
{
    public WorkLease Lease => lease;
    /// <summary>Network batches, one per group of items that share a model and schedule.</summary>
    public List<SampledBatch> Batches { get; } = new();
    /// <summary>Per-item results so far: items that failed before or during sampling are already reported.</summary>
    public List<LeaseOutcome> Outcomes { get; } = new();

    public void Dispose()
    {
        foreach (var batch in Batches) batch.Dispose();
    }
}

/// <summary>One network batch: its items in order, their images [frames, C, H, W] on the CPU, and the sampling time.</summary>
public sealed class SampledBatch(List<WorkItem> items, Tensor images, double seconds) : IDisposable
{
    Tensor? images = images;

    public List<WorkItem> Items => items;
    public double Seconds => seconds;
    public Tensor Images => images ?? throw new ObjectDisposedException(nameof(SampledBatch));

    public void Dispose()
    {
        images?.Dispose();
        images = null;
    }
}

/// <summary>What a worker reports about itself (<see cref="WorkerInfo"/>); updated by both of its stages.</summary>
public sealed class WorkerCounters
{
    public long FramesDone { get; set; }
    public double BusySeconds { get; set; }
    public string? LastError { get; set; }
}
