using Scm.Sampling;
using Scm.Training;
using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>The real-digit floor of the FD at one sample size: mean and range over several random draws.</summary>
public sealed record RealDigitFloor(double Mean, double Min, double Max, int Draws);

/// <summary>
/// How the quality of generated digits is judged, in one place for `scm-tools eval`, its benches and the training
/// curve (<see cref="ValidationProbe"/>): class accuracy by the evaluation classifier, and the Fréchet distance between
/// Gaussians fitted to the classifier's features of the generated and of the reference digits.
/// </summary>
public static class DigitQuality
{
    /// <summary>Quality of <paramref name="images"/> generated for the classes <paramref name="requested"/> ([N] longs).</summary>
    public static SampleQuality Judge(MnistClassifier classifier, Tensor images, Tensor requested, Tensor referenceMean, Tensor referenceCovariance)
    {
        using var scope = NewDisposeScope();
        double accuracy = classifier.Classify(images).eq(requested).to(float64).mean().item<double>();
        var (mean, covariance) = FrechetDistance.Statistics(classifier.ExtractFeatures(images));
        return new SampleQuality(accuracy, FrechetDistance.FromStatistics(mean, covariance, referenceMean, referenceCovariance));
    }

    /// <summary>
    /// The floor the FD can reach at this sample size: real digits from <paramref name="poolImages"/>
    /// (<paramref name="perClass"/> of each class, drawn at random without replacement, <paramref name="draws"/> seeded
    /// draws) against the reference features. The pool must not contain the reference digits (a draw would partly be
    /// its own reference and the floor would read too low). Reported as mean and range: one fixed draw (the first
    /// digits of each class) sat farther from the held-out set than random draws do.
    /// </summary>
    public static RealDigitFloor Floor(MnistClassifier classifier, Tensor poolImages, Tensor poolLabels, Tensor referenceFeatures, int perClass, int draws = 5)
    {
        using var scope = NewDisposeScope();
        var fds = new List<double>();
        for (int draw = 0; draw < draws; draw++)
        {
            using var generator = new Generator(100UL + (ulong)draw);
            var index = ClassBalancedIndex(poolLabels, perClass, generator);
            fds.Add(FrechetDistance.Compute(classifier.ExtractFeatures(poolImages.index_select(0, index)), referenceFeatures));
        }
        return new RealDigitFloor(fds.Average(), fds.Min(), fds.Max(), draws);
    }

    /// <summary>
    /// The samples every judge here draws: <paramref name="samples"/> images on noise seed <paramref name="seed"/>, an
    /// equal count per class in class order (sample i asks for class i / (samples / 10)), and the requested class of each.
    /// </summary>
    public static (List<SampleSpec> Specs, long[] Requested) ClassBalancedSpecs(ulong seed, int samples)
    {
        int classes = MnistDigits.Classes;
        if (samples < classes || samples % classes != 0)
            throw new ArgumentOutOfRangeException(nameof(samples), $"samples must be a positive multiple of {classes}; got {samples}.");
        int perClass = samples / classes;
        var requested = Enumerable.Range(0, samples).Select(i => (long)(i / perClass)).ToArray();
        return (requested.Select((c, i) => SampleSpec.Image(seed, i, (int)c, classes)).ToList(), requested);
    }

    /// <summary>Indices of <paramref name="perClass"/> digits of each class (all of a smaller class), drawn at random without replacement, class by class.</summary>
    public static Tensor ClassBalancedIndex(Tensor labels, int perClass, Generator generator) =>
        cat(Enumerable.Range(0, MnistDigits.Classes).Select(c =>
        {
            var ofClass = nonzero(labels.eq(c)).flatten();
            return ofClass.index_select(0, randperm(ofClass.shape[0], generator: generator).narrow(0, 0, Math.Min(perClass, ofClass.shape[0])));
        }).ToArray());
}
