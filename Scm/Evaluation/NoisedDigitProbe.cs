using Scm.Network;
using Scm.Training;
using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>
/// The consistency map at one time t on its own, apart from the samplers: real fit digits noised to t,
/// x_t = cos(t) x0 + sin(t) z, mapped back by f(x_t, t) and judged like samples (class accuracy, FD against the
/// validation digits). A 2-step sample is f(renoise(1-step sample), t_mid); this measures the second evaluation with a
/// perfect first one, so a poor 2-step with a sound map here is the first step's fault, not the map's at t_mid.
/// The digits themselves (<see cref="Digits"/>) are where a map that reproduced them would land.
/// </summary>
public sealed class NoisedDigitProbe : IDisposable
{
    readonly MnistClassifier classifier;
    readonly Tensor x0, labels, oneHot, z, referenceMean, referenceCovariance;
    readonly int computeBatch;

    /// <param name="perClass">Fit digits drawn per class (without replacement, seeded by <paramref name="seed"/>).</param>
    public NoisedDigitProbe(MnistClassifier classifier, MnistDigits data, int perClass, ulong seed = 11, int computeBatch = 250)
    {
        this.classifier = classifier;
        this.computeBatch = computeBatch;
        using var generator = new Generator(seed, CPU);
        var index = DigitQuality.ClassBalancedIndex(data.FitLabels, perClass, generator);
        x0 = data.FitImages.index_select(0, index);
        labels = data.FitLabels.index_select(0, index);
        oneHot = nn.functional.one_hot(labels, MnistDigits.Classes).to(x0.dtype);
        z = randn(x0.shape, generator: generator) * TrigFlow.SigmaData;
        using var features = classifier.ExtractFeatures(data.ValidationImages);
        (referenceMean, referenceCovariance) = FrechetDistance.Statistics(features);
        Digits = DigitQuality.Judge(classifier, x0, labels, referenceMean, referenceCovariance);
    }

    /// <summary>The unnoised fit digits, judged the same way: the floor of this probe's FD.</summary>
    public SampleQuality Digits { get; }

    /// <summary>Quality of f(x_t, t) over the probe's digits, with <paramref name="network"/> (a consistency model, CPU) in eval mode.</summary>
    public SampleQuality Measure(ScmUNet network, double t)
    {
        if (t is <= 0 || t > TrigFlow.TMax) throw new ArgumentOutOfRangeException(nameof(t), $"t must be in (0, {TrigFlow.TMax:F4}]; got {t}.");
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var time = full([x0.shape[0]], t, dtype: x0.dtype);
            var xt = TrigFlow.Noise(x0, z, time);
            var mapped = cat(Enumerable.Range(0, (int)Math.Ceiling(x0.shape[0] / (double)computeBatch)).Select(i =>
            {
                long start = i * (long)computeBatch, length = Math.Min(computeBatch, x0.shape[0] - start);
                return TrigFlow.Consistency(network, xt.narrow(0, start, length), time.narrow(0, start, length), oneHot.narrow(0, start, length), null);
            }).ToArray()).clamp(-1, 1);
            return DigitQuality.Judge(classifier, mapped, labels, referenceMean, referenceCovariance);
        }
        finally
        {
            if (wasTraining) network.train();
        }
    }

    public void Dispose()
    {
        foreach (var tensor in new[] { x0, labels, oneHot, z, referenceMean, referenceCovariance }) tensor.Dispose();
    }
}
