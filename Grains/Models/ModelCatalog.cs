using System.Collections.Concurrent;
using BlobStorage;
using Grains.Interfaces;
using Grains.Options;
using Microsoft.Extensions.Options;
using Scm.Checkpoints;

namespace Grains.Models;

/// <summary>
/// Resolves model ids to checkpoint cards and describes models without loading weights. Blob-hosted
/// checkpoints ("blob:name") are downloaded once into the local cache.
/// </summary>
public sealed class ModelCatalog(IOptions<ModelRegistryOptions> options, IOptions<SchedulerOptions> scheduler, IBlobStore blobs)
{
    readonly ConcurrentDictionary<string, Lazy<Task<string>>> localCards = new();
    readonly ConcurrentDictionary<string, ModelInfo> infos = new();

    public IReadOnlyCollection<string> ModelIds => options.Value.Registry.Keys;

    /// <summary>The local path of the model's card, downloading a blob-hosted checkpoint first if needed.</summary>
    public Task<string> CardPathAsync(string modelId, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Registry.TryGetValue(modelId, out var location))
            throw new UnknownModelException(modelId, options.Value.Registry.Keys);
        var lazy = localCards.GetOrAdd(modelId, _ => new Lazy<Task<string>>(() => ResolveAsync(modelId, location, cancellationToken)));
        var task = lazy.Value;
        if (task.IsFaulted) localCards.TryRemove(modelId, out _); // a failed download may succeed later
        return task;
    }

    public async Task<ModelInfo> DescribeAsync(string modelId, CancellationToken cancellationToken = default)
    {
        if (infos.TryGetValue(modelId, out var cached)) return cached;
        var card = Checkpoint.ReadCard(await CardPathAsync(modelId, cancellationToken));
        var info = new ModelInfo
        {
            Id = modelId, Kind = card.Kind, Resolution = card.Network.Resolution, Channels = card.Network.ImageChannels,
            NumClasses = card.Network.NumClasses, ClassNames = card.ClassNames, SupportsGuidance = card.Network.GuidanceEmbedding,
            DefaultItemFrames = scheduler.Value.DefaultItemFrames,
        };
        infos[modelId] = info;
        return info;
    }

    async Task<string> ResolveAsync(string modelId, string location, CancellationToken cancellationToken)
    {
        if (location.StartsWith("blob:", StringComparison.Ordinal))
            return await DownloadAsync(modelId, location["blob:".Length..], cancellationToken);
        if (Path.IsPathRooted(location)) return location;
        foreach (var root in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var candidate = Path.Combine(root, location);
            if (File.Exists(candidate)) return candidate;
        }
        return Path.Combine(AppContext.BaseDirectory, location); // Checkpoint.Load reports it missing, with this path.
    }

    async Task<string> DownloadAsync(string modelId, string cardBlob, CancellationToken cancellationToken)
    {
        var cardBytes = await blobs.GetAsync(cardBlob, cancellationToken)
                        ?? throw new CheckpointException($"Model '{modelId}': card blob '{cardBlob}' not found in {blobs.Location}.");
        var directory = Path.Combine(options.Value.CacheDirectory, modelId);
        Directory.CreateDirectory(directory);
        var cardPath = Path.Combine(directory, "model.json");
        await File.WriteAllBytesAsync(cardPath, cardBytes, cancellationToken);
        var card = Checkpoint.ReadCard(cardPath);
        var folder = cardBlob.Contains('/') ? cardBlob[..(cardBlob.LastIndexOf('/') + 1)] : "";
        var weights = await blobs.GetAsync(folder + card.Weights, cancellationToken)
                      ?? throw new CheckpointException($"Model '{modelId}': weights blob '{folder + card.Weights}' not found in {blobs.Location}.");
        await File.WriteAllBytesAsync(Path.Combine(directory, card.Weights), weights, cancellationToken);
        return cardPath;
    }
}
