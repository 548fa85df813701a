using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>
/// Multistep consistency sampling (sCM, Alg. 1 of the paper's appendix): x0 = f(sigma_data z, t_max); then for
/// each intermediate t: x_t = cos(t) x0 + sin(t) sigma_data eps, x0 = f(x_t, t). Step s draws its noise from
/// each sample's stream at index s, so a frame's pixels do not depend on its batch.
/// </summary>
public sealed class ConsistencySampler
{
    readonly ScmUNet network;
    readonly Device device;

    public ConsistencySampler(ScmUNet network, Device device)
    {
        this.network = network;
        this.device = device;
    }

    public long[] SampleShape => [network.Config.ImageChannels, network.Config.Resolution, network.Config.Resolution];

    /// <summary>Samples a batch. Returns a CPU float tensor [B, C, H, W] in [-1, 1]; the caller disposes it.</summary>
    public Tensor Sample(IReadOnlyList<SampleSpec> specs, SamplingSchedule schedule, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(specs.Count, nameof(specs));
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var (labels, guidance) = Conditioning(specs);
        var x0 = default(Tensor)!;
        for (int step = 0; step < schedule.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var eps = NoiseBank.StandardNormal(specs, step, SampleShape).to(device);
            var t = full(specs.Count, schedule.Times[step], float32, device);
            var xt = step == 0 ? TrigFlow.SigmaData * eps : TrigFlow.Noise(x0, TrigFlow.SigmaData * eps, t);
            x0 = TrigFlow.Consistency(network, xt, t, labels, guidance);
        }
        return x0.clamp(-1, 1).cpu().MoveToOuterDisposeScope();
    }

    (Tensor? labels, Tensor? guidance) Conditioning(IReadOnlyList<SampleSpec> specs)
    {
        var config = network.Config;
        Tensor? labels = null;
        if (config.NumClasses > 0)
        {
            var flat = new float[specs.Count * config.NumClasses];
            for (int i = 0; i < specs.Count; i++)
            {
                if (specs[i].Label.Length != config.NumClasses)
                    throw new ArgumentException($"Label of sample {i} has {specs[i].Label.Length} entries; the model has {config.NumClasses} classes.");
                specs[i].Label.CopyTo(flat, i * config.NumClasses);
            }
            labels = tensor(flat, [specs.Count, config.NumClasses]).to(device);
        }
        Tensor? guidance = null;
        if (config.GuidanceEmbedding)
            guidance = tensor(specs.Select(s => (float)s.Guidance).ToArray()).to(device);
        else if (specs.Any(s => s.Guidance != 1.0))
            throw new ArgumentException("This model was not distilled with guidance: guidance scale must be 1.");
        return (labels, guidance);
    }
}
