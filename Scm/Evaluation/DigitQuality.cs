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
    /// The floor the FD can reach at this sample size: real train digits (<paramref name="perClass"/> of each class,
    /// drawn at random without replacement, <paramref name="draws"/> seeded draws) against the reference features.
    /// Reported as mean and range: one fixed draw (the first digits of each class) sat farther from the held-out set
    /// than random draws do.
    /// </summary>
    public static RealDigitFloor Floor(MnistDigits data, MnistClassifier classifier, Tensor referenceFeatures, int perClass, int draws = 5)
    {
        using var scope = NewDisposeScope();
        var fds = new List<double>();
        for (int draw = 0; draw < draws; draw++)
        {
            using var generator = new Generator(100UL + (ulong)draw);
            var index = ClassBalancedIndex(data.TrainLabels, perClass, generator);
            fds.Add(FrechetDistance.Compute(classifier.ExtractFeatures(data.TrainImages.index_select(0, index)), referenceFeatures));
        }
        return new RealDigitFloor(fds.Average(), fds.Min(), fds.Max(), draws);
    }

    /// <summary>Indices of <paramref name="perClass"/> digits of each class (all of a smaller class), drawn at random without replacement, class by class.</summary>
    public static Tensor ClassBalancedIndex(Tensor labels, int perClass, Generator generator) =>
        cat(Enumerable.Range(0, MnistDigits.Classes).Select(c =>
        {
            var ofClass = nonzero(labels.eq(c)).flatten();
            return ofClass.index_select(0, randperm(ofClass.shape[0], generator: generator).narrow(0, 0, Math.Min(perClass, ofClass.shape[0])));
        }).ToArray());
}
