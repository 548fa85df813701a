using System.Diagnostics;
using Grains.Interfaces;
using Grains.Jobs;
using Grains.Models;

namespace Grains.Workers;

/// <summary>Samples with the job's model on a torch device ("cpu", "cuda:0", ...), loaded once per device by <see cref="ModelCache"/>.</summary>
public sealed class TorchDeviceRunner(ModelCache models) : IDeviceRunner
{
    public async Task<SampledBatch> SampleAsync(string device, List<WorkItem> items, CancellationToken cancellationToken)
    {
        var model = await models.GetAsync(items[0].Spec.ModelId, device, cancellationToken);
        // The device gate is shared by every silo of this process and is taken and released on the thread pool:
        // a release queued on a grain activation would never run if its silo stopped meanwhile, and every other
        // in-process worker of the device would wait forever.
        return await Task.Run(async () =>
        {
            await model.Gate.WaitAsync(cancellationToken);
            try { return Sample(model, items, cancellationToken); }
            finally { model.Gate.Release(); }
        }, cancellationToken);
    }

    /// <summary>One network batch for all items (in compute chunks of the device kind), timed.</summary>
    static SampledBatch Sample(LoadedModel model, List<WorkItem> items, CancellationToken cancellationToken)
    {
        int numClasses = model.Card.Network.NumClasses;
        var specs = items.SelectMany(item => Enumerable.Range(item.FirstFrame, item.FrameCount)
            .Select(frame => FramePlanner.Frame(item.Spec, frame, numClasses))).ToList();
        long started = Stopwatch.GetTimestamp();
        var images = model.Sampler.Sample(specs, FramePlanner.Schedule(items[0].Spec, model.Card.TMid), cancellationToken);
        return SampledBatch.Sampled(items, images, Stopwatch.GetElapsedTime(started).TotalSeconds, model.Id, started,
            new SamplingSetup(model.Sampler.ComputeBatch, model.Precision.ToString()));
    }
}
