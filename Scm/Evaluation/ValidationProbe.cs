using Scm.Network;
using Scm.Sampling;
using Scm.Training;
using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>Class accuracy and Fréchet distance of one sampler setting, in the classifier's feature space.</summary>
public sealed record SampleQuality(double Accuracy, double FrechetDistance);

/// <summary>
/// Judges a consistency model during training on the validation split (never the held-out digits): 1- and 2-step
/// samples, an equal count per class from fixed noise, scored by the evaluation classifier (class accuracy) and by the
/// Fréchet distance of their features to the validation digits' features. Fixed noise makes points of a curve
/// comparable: only the weights change between them.
/// </summary>
public sealed class ValidationProbe : IDisposable
{
    readonly MnistClassifier classifier;
    readonly Tensor referenceMean, referenceCovariance, requested;
    readonly List<SampleSpec> specs;
    readonly Device device;
    readonly int computeBatch;

    /// <summary>The noise seed of the training curve's points (so other tools can judge a snapshot on the curve's noise).</summary>
    public const ulong CurveSeed = 7;

    public ValidationProbe(MnistClassifier classifier, Tensor validationImages, int samples, Device device, ulong seed = CurveSeed, int computeBatch = 250)
    {
        // Before any work: the draw's shape is checked (a positive multiple of 10) by ClassBalancedSpecs.
        var (classBalanced, requestedClasses) = DigitQuality.ClassBalancedSpecs(seed, samples);
        this.classifier = classifier;
        this.device = device;
        this.computeBatch = Math.Min(computeBatch, samples);
        using var features = classifier.ExtractFeatures(validationImages);
        (referenceMean, referenceCovariance) = FrechetDistance.Statistics(features);
        (specs, requested) = (classBalanced, tensor(requestedClasses));
    }

    /// <summary>
    /// Quality of <paramref name="network"/> (a consistency model on this probe's device) at 1 and 2 steps, the second at
    /// <paramref name="tMid"/> (null: sCM's 1.1).
    /// </summary>
    public (SampleQuality OneStep, SampleQuality TwoStep) Measure(ScmUNet network, double? tMid = null, CancellationToken cancellationToken = default) =>
        (Measure(network, SamplingSchedule.ForSteps(1), cancellationToken), Measure(network, SamplingSchedule.ForSteps(2, tMid: tMid), cancellationToken));

    /// <summary>Quality of <paramref name="network"/> sampled on <paramref name="schedule"/>, from this probe's fixed noise.</summary>
    public SampleQuality Measure(ScmUNet network, SamplingSchedule schedule, CancellationToken cancellationToken = default)
    {
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var images = new ConsistencySampler(network, device, computeBatch).Sample(specs, schedule, cancellationToken);
            return DigitQuality.Judge(classifier, images, requested, referenceMean, referenceCovariance);
        }
        finally
        {
            if (wasTraining) network.train();
        }
    }

    public void Dispose()
    {
        referenceMean.Dispose();
        referenceCovariance.Dispose();
        requested.Dispose();
    }
}
