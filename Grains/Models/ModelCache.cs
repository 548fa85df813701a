using System.Collections.Concurrent;
using System.Diagnostics;
using Grains.Options;
using Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scm.Checkpoints;
using Scm.Sampling;

namespace Grains.Models;

/// <summary>
/// Loads each model once per device and keeps it. A bad checkpoint fails only the requests for that model
/// (with the checkpoint's own message) and is retried on the next request; the silo stays healthy.
/// </summary>
public sealed class ModelCache(ModelCatalog catalog, IOptions<DeviceOptions> devices, GenerationMetrics metrics, ILogger<ModelCache> logger)
{
    readonly ConcurrentDictionary<(string Model, string Device), Lazy<Task<LoadedModel>>> loaded = new();

    public async Task<LoadedModel> GetAsync(string modelId, string device, CancellationToken cancellationToken = default)
    {
        var key = (modelId, device);
        var lazy = loaded.GetOrAdd(key, _ => new Lazy<Task<LoadedModel>>(() => LoadAsync(modelId, device, cancellationToken)));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            loaded.TryRemove(new KeyValuePair<(string, string), Lazy<Task<LoadedModel>>>(key, lazy));
            throw;
        }
    }

    async Task<LoadedModel> LoadAsync(string modelId, string device, CancellationToken cancellationToken)
    {
        var cardPath = await catalog.CardPathAsync(modelId, cancellationToken);
        return await Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var torchDevice = TorchSharp.torch.device(device);
            var (network, card) = Checkpoint.Load(cardPath, torchDevice);
            if (card.Kind != ModelCard.ConsistencyKind)
                throw new CheckpointException($"{cardPath}: model '{modelId}' is a '{card.Kind}' model; workers serve '{ModelCard.ConsistencyKind}' models.");
            var kind = devices.Value.KindOf(device);
            network.RunAt(kind.Precision);
            logger.LogInformation("Loaded model {Model} on {Device} (compute chunk {Chunk}, {Precision}) from {Card} in {Ms} ms",
                modelId, device, kind.ComputeChunk, kind.Precision, cardPath, clock.ElapsedMilliseconds);
            metrics.ModelLoaded(modelId, device, clock.Elapsed);
            var sampler = new ConsistencySampler(network, torchDevice, kind.ComputeChunk);
            // One frame through the sampler now: a device or precision that cannot run this network (a missing 16-bit
            // kernel, a CUDA shim problem) then fails the load with its message, as a bad checkpoint does, instead of
            // every lease. It also takes the first call's one-off costs (kernel selection, allocator) out of the first job.
            int classes = card.Network.NumClasses;
            using (sampler.Sample([SampleSpec.Image(0, 0, classes > 0 ? 0 : -1, classes)], SamplingSchedule.ForSteps(1), cancellationToken)) { }
            return new LoadedModel(modelId, device, network, card, sampler, kind.Precision, clock.Elapsed);
        }, cancellationToken);
    }
}
