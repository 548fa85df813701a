using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>
/// Multistep consistency sampling (sCM, Alg. 1 of the paper's appendix): x0 = f(sigma_data z, t_max); then for
/// each intermediate t: x_t = cos(t) x0 + sin(t) sigma_data eps, x0 = f(x_t, t). Step s draws its noise from
/// each sample's stream at index s, so a frame's noise does not depend on its batch.
/// <para>
/// The network itself is evaluated on fixed-size chunks of exactly <see cref="ComputeBatch"/> samples (the last
/// chunk padded with copies of its last sample), never on the request's batch size. CPU kernels pick their
/// algorithm by batch size (oneDNN convolutions differ between N = 1 and N >= 2, MKL GEMMs between M = 1,
/// M = 2..3 and M >= 4: measured up to ~1e-6 apart), so a frame's floats would otherwise depend on the batch
/// it was sampled in. With one shape for every call, a frame gives the same bits alone, in any batch and at
/// any position, so a retried or re-split batch rewrites identical bytes. Bits also depend on the torch thread
/// count, the libtorch build and the CPU/GPU kind: workers that must agree have to pin those too.
/// </para>
/// </summary>
public sealed class ConsistencySampler
{
    /// <summary>Near the best images/s of the 2-core CPU machines at 1-2 threads, with little padding waste.</summary>
    public const int DefaultComputeBatch = 8;

    readonly ScmUNet network;
    readonly Device device;

    public ConsistencySampler(ScmUNet network, Device device, int computeBatch = DefaultComputeBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(computeBatch, 1);
        this.network = network;
        this.device = device;
        ComputeBatch = computeBatch;
    }

    /// <summary>Samples per network evaluation. Part of the reproducibility contract: a different value gives different bits.</summary>
    public int ComputeBatch { get; }

    public long[] SampleShape => [network.Config.ImageChannels, network.Config.Resolution, network.Config.Resolution];

    /// <summary>Samples a batch. Returns a CPU float tensor [B, C, H, W] in [-1, 1]; the caller disposes it.</summary>
    public Tensor Sample(IReadOnlyList<SampleSpec> specs, SamplingSchedule schedule, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(specs.Count, nameof(specs));
        for (int i = 0; i < specs.Count; i++) ValidateConditioning(specs[i], i);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var x0 = ComputeChunks.Run(specs, ComputeBatch, chunk => SampleChunk(chunk, schedule, cancellationToken));
        return x0.clamp(-1, 1).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One chunk through every step. Each network evaluation gets its own dispose scope and only x0 leaves it:
    /// a single scope for the whole request held every activation of every chunk and step until the end
    /// (~2 GB RSS for 64 MNIST images at 2 steps).
    /// </summary>
    Tensor SampleChunk(IReadOnlyList<SampleSpec> specs, SamplingSchedule schedule, CancellationToken cancellationToken)
    {
        using var chunkScope = NewDisposeScope();
        var (labels, guidance) = Conditioning(specs);
        var x0 = default(Tensor)!;
        for (int step = 0; step < schedule.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            var eps = NoiseBank.StandardNormal(specs, step, SampleShape).to(device);
            var t = full(specs.Count, schedule.Times[step], float32, device);
            var xt = step == 0 ? TrigFlow.SigmaData * eps : TrigFlow.Noise(x0, TrigFlow.SigmaData * eps, t);
            x0 = TrigFlow.Consistency(network, xt, t, labels, guidance).MoveToOuterDisposeScope();
        }
        return x0.MoveToOuterDisposeScope();
    }

    void ValidateConditioning(SampleSpec spec, int index)
    {
        var config = network.Config;
        if (config.NumClasses > 0 && spec.Label.Length != config.NumClasses)
            throw new ArgumentException($"Label of sample {index} has {spec.Label.Length} entries; the model has {config.NumClasses} classes.");
        if (!config.GuidanceEmbedding && spec.Guidance != 1.0)
            throw new ArgumentException($"Sample {index} asks for guidance {spec.Guidance}, but this model was not distilled with guidance: guidance scale must be 1.");
    }

    (Tensor? labels, Tensor? guidance) Conditioning(IReadOnlyList<SampleSpec> specs)
    {
        var config = network.Config;
        Tensor? labels = null;
        if (config.NumClasses > 0)
        {
            var flat = new float[specs.Count * config.NumClasses];
            for (int i = 0; i < specs.Count; i++) specs[i].Label.CopyTo(flat, i * config.NumClasses);
            labels = tensor(flat, [specs.Count, config.NumClasses]).to(device);
        }
        Tensor? guidance = null;
        if (config.GuidanceEmbedding)
            guidance = tensor(specs.Select(s => (float)s.Guidance).ToArray()).to(device);
        return (labels, guidance);
    }
}
