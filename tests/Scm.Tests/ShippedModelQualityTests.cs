using System.Diagnostics;
using Scm.Checkpoints;
using Scm.Evaluation;
using Scm.Sampling;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>
/// Quality smoke test of what we ship: the distilled student models/mnist-scm must draw 1- and 2-step digits that the
/// shipped evaluation classifier (models/mnist-classifier, 98.5+ % on real held-out digits) recognises as the
/// requested class. A broken export, a wrong sigma_data or t_mid, or a collapsed model fails it in seconds.
/// SCM_QUALITY_STUDENT=path/to/model.json points it at another student card (e.g. a run in progress).
/// </summary>
[Trait("Category", "Quality")]
public class ShippedModelQualityTests(ITestOutputHelper output)
{
    const int PerClass = 20;
    const int Classes = 10;

    /// <summary>Thresholds from what the shipped model justifies (docs/MODEL.md), with a margin for 200 samples.</summary>
    [Theory]
    [InlineData(2, 0.97)]
    [InlineData(1, 0.96)]
    public void Samples_of_the_shipped_student_are_classified_as_the_requested_digit(int steps, double minimumAccuracy)
    {
        string root = RepoRoot();
        string studentCard = Environment.GetEnvironmentVariable("SCM_QUALITY_STUDENT") is { Length: > 0 } custom
            ? custom
            : Path.Combine(root, "models", "mnist-scm", "model.json");
        string classifierCard = Path.Combine(root, "models", "mnist-classifier", ClassifierCheckpoint.CardFileName);
        Assert.True(File.Exists(studentCard), $"Shipped student not found: {studentCard}. Ship the distilled model (model.json + model.safetensors) there.");

        var clock = Stopwatch.StartNew();
        var (student, card) = Checkpoint.Load(studentCard, CPU);
        var (classifier, _) = ClassifierCheckpoint.Load(classifierCard, CPU);
        using (student)
        using (classifier)
        {
            var specs = Enumerable.Range(0, PerClass * Classes).Select(i => SampleSpec.Image(7, i, i / PerClass, Classes)).ToList();
            var sampler = new ConsistencySampler(student, CPU);
            var batches = specs.Chunk(100).Select(batch => sampler.Sample(batch, SamplingSchedule.ForSteps(steps, tMid: card.TMid))).ToList();
            using var images = cat(batches);
            foreach (var b in batches) b.Dispose();
            using var predicted = classifier.Classify(images);
            var predictions = predicted.data<long>().ToArray();

            var perClass = Enumerable.Range(0, Classes)
                .Select(c => Enumerable.Range(c * PerClass, PerClass).Count(i => predictions[i] == c) / (double)PerClass).ToArray();
            double accuracy = perClass.Average();
            string summary = $"{Path.GetFileName(Path.GetDirectoryName(studentCard))} ({card.Kind}, {card.Training?.Iterations} iterations): " +
                             $"{steps}-step class accuracy {accuracy:P1} over {specs.Count} digits; per class " +
                             string.Join(" ", perClass.Select((a, c) => $"{c}:{a:P0}")) + $"; {clock.Elapsed.TotalSeconds:F1} s";
            output.WriteLine(summary);
            Assert.True(accuracy >= minimumAccuracy, $"Expected >= {minimumAccuracy:P0}. {summary}");
        }
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Cluster.sln above {AppContext.BaseDirectory}.");
    }
}
