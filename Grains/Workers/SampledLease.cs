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

/// <summary>
/// One network batch: its items in order, their images [frames, C, H, W] on the CPU (or, from a simulated device,
/// placeholder PNGs), the sampling time, and when sampling started (batch latency runs until the frames are stored).
/// </summary>
public sealed class SampledBatch : IDisposable
{
    Tensor? images;

    SampledBatch(List<WorkItem> items, Tensor? images, byte[][][]? pngs, double seconds, string model, long startedTimestamp, SamplingSetup? setup)
    {
        Setup = setup;
        Items = items;
        this.images = images;
        Pngs = pngs;
        Seconds = seconds;
        Model = model;
        StartedTimestamp = startedTimestamp;
    }

    public static SampledBatch Sampled(List<WorkItem> items, Tensor images, double seconds, string model, long startedTimestamp, SamplingSetup? setup) =>
        new(items, images, null, seconds, model, startedTimestamp, setup);

    /// <summary>Frames that come already encoded (a simulated device's placeholders), no tensors.</summary>
    public static SampledBatch Encoded(List<WorkItem> items, byte[][][] pngs, double seconds, string model, long startedTimestamp) =>
        new(items, null, pngs, seconds, model, startedTimestamp, null);

    public List<WorkItem> Items { get; }
    /// <summary>How the sampler that made these frames ran (null for simulated placeholders).</summary>
    public SamplingSetup? Setup { get; }
    public double Seconds { get; }
    public string Model { get; }
    public long StartedTimestamp { get; }
    /// <summary>Per item, per frame: set when the frames came already encoded (they need no encoding).</summary>
    public byte[][][]? Pngs { get; }
    public Tensor Images => images ?? throw new ObjectDisposedException(nameof(SampledBatch));

    public void Dispose()
    {
        images?.Dispose();
        images = null;
    }
}

/// <summary>
/// What a frame's bits depend on besides its spec and the device kind: images per network call, and the dtype the
/// network ran in (a <see cref="Scm.Network.NetworkPrecision"/> name).
/// </summary>
public sealed record SamplingSetup(int ComputeChunk, string Precision);

/// <summary>What a worker reports about itself (<see cref="WorkerInfo"/>); updated by both of its stages.</summary>
public sealed class WorkerCounters
{
    public long FramesDone { get; set; }
    public double BusySeconds { get; set; }
    public string? LastError { get; set; }
}
