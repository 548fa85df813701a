using Scm.Checkpoints;
using Scm.Training;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>`train scd --probe-t-mids`: the validation curve's 2-step at more t_mid than the run's.</summary>
public partial class TrainingTests
{
    /// <summary>
    /// <c>--probe-t-mids</c>: every point also judges the 2-step at the extra t_mid, on the same fixed noise as the main
    /// line (so the run's own t_mid, probed again as an extra, would give the same figures), and a curve written before
    /// the field existed still loads.
    /// </summary>
    [Fact]
    public void Validation_curve_probes_the_2_step_at_extra_t_mid_too()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        using var probe = new Scm.Evaluation.ValidationProbe(TinyClassifier(), Synthetic().ValidationImages, samples: 20, CPU, computeBatch: 10);
        var options = Options("scd", 2, 1e-3) with { EvaluateEvery = 2, CheckpointEvery = 2 };
        var scd = Scd(teacherCard) with { TMid = 1.1, ProbeTMids = [0.5, 0.8] };
        var trainer = new ScdTrainer(options, scd, Synthetic());
        var log = new StringWriter();
        trainer.Run(log, CancellationToken.None, probe);

        var curve = new TrainingCurve(directory.File("scd"));
        curve.Load(resumedIteration: 2);
        var point = Assert.Single(curve.Points);
        Assert.Equal([0.5, 0.8], point.TwoStepAt!.Select(p => p.TMid));
        Assert.All(point.TwoStepAt!, p => Assert.True(double.IsFinite(p.Fd) && p.Accuracy is >= 0 and <= 1));
        Assert.Contains("2-step at t_mid 0.5", log.ToString());
        var (best, _) = Checkpoint.Load(Path.Combine(directory.File("scd"), "best", "model.json"), CPU); // the EMA the point judged
        Assert.Equal(point.TwoStepAt![0].Fd, probe.Measure(best, Scm.Sampling.SamplingSchedule.ForSteps(2, tMid: 0.5)).FrechetDistance, 6);

        string older = Path.Combine(directory.File("older"), "curve.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(older)!);
        File.WriteAllText(older, """{"iteration":5,"wall_clock_seconds":1,"loss":0.5,"one_step_accuracy":0.9,"one_step_fd":2,"two_step_accuracy":0.95,"two_step_fd":1}""" + "\n");
        var loaded = new TrainingCurve(directory.File("older"));
        loaded.Load(resumedIteration: 5);
        Assert.Null(Assert.Single(loaded.Points).TwoStepAt);
        Assert.DoesNotContain("two_step_at", File.ReadAllText(older));
    }

    [Theory]
    [InlineData(new[] { 0.5, 0.5 })]
    [InlineData(new[] { 1.1 })]
    [InlineData(new[] { 0.0 })]
    [InlineData(new[] { 1.6 })]
    public void Probe_t_mids_outside_the_range_repeated_or_equal_to_t_mid_are_refused(double[] times) =>
        Assert.ThrowsAny<ArgumentException>(() => (Scd("unused") with { TMid = 1.1, ProbeTMids = times }).Validate());
}
