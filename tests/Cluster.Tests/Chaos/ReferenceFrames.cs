using System.Collections.Concurrent;
using System.Security.Cryptography;
using Grains.Interfaces;
using Grains.Jobs;
using Scm.Checkpoints;
using Scm.Images;
using Scm.Sampling;

namespace Cluster.Tests.Chaos;

/// <summary>
/// The SHA-256 of every frame of a job as an unfailed run renders it, computed here in the test process with the
/// same planner, sampler and PNG encoder the workers use, but no cluster, no retries and no faults. The sampler's
/// fixed compute chunks make a frame's bits independent of the batch it is sampled in (docs/SAMPLING-DETERMINISM.md),
/// so these must equal what the cluster stored whatever happened to it.
/// </summary>
public static class ReferenceFrames
{
    static readonly ConcurrentDictionary<string, Lazy<Task<string[]>>> cache = new();

    /// <summary>Cached per spec: several chaos tests share one spec and pay for the reference once.</summary>
    public static Task<string[]> Sha256Async(JobSpec spec, CancellationToken cancellationToken = default) =>
        cache.GetOrAdd(Key(spec), _ => new Lazy<Task<string[]>>(() => Task.Run(() => Compute(spec, cancellationToken), cancellationToken))).Value;

    /// <summary>The chaos cluster's silos run one torch thread (Devices:CpuThreads); bits depend on the thread count.</summary>
    public const int Threads = 1;

    static string[] Compute(JobSpec spec, CancellationToken cancellationToken)
    {
        // Process-wide: safe because the chaos collection runs alone, after every in-process cluster test.
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(Threads);
        try { return ComputeWithThreads(spec, cancellationToken); }
        finally { TorchSharp.torch.set_num_threads(threads); }
    }

    static string[] ComputeWithThreads(JobSpec spec, CancellationToken cancellationToken)
    {
        var (network, card) = Checkpoint.Load(TestModels.TinyCard, TorchSharp.torch.CPU);
        using (network)
        {
            var sampler = new ConsistencySampler(network, TorchSharp.torch.CPU);
            var schedule = FramePlanner.Schedule(spec);
            var filter = spec.Resize == "nearest" ? ResizeFilter.Nearest : ResizeFilter.Bilinear;
            var hashes = new string[spec.Frames];
            const int chunk = 32;
            for (int first = 0; first < spec.Frames; first += chunk)
            {
                int count = Math.Min(chunk, spec.Frames - first);
                var frames = Enumerable.Range(first, count).Select(f => FramePlanner.Frame(spec, f, card.Network.NumClasses)).ToList();
                using var batch = sampler.Sample(frames, schedule, cancellationToken);
                var pngs = PngEncoder.EncodeBatch(batch, spec.OutputSize, filter);
                for (int k = 0; k < count; k++) hashes[first + k] = Convert.ToHexStringLower(SHA256.HashData(pngs[k]));
            }
            return hashes;
        }
    }

    static string Key(JobSpec spec) => System.Text.Json.JsonSerializer.Serialize(spec);
}
