using Scm.Checkpoints;
using Scm.Network;
using Scm.Training;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>sCD from another consistency model (`--student-from`) and the distribution-matching regulariser (`--dmd-weight`).</summary>
public partial class TrainingTests
{
    /// <summary>`--student-from`: the student starts as that model's weights (not the teacher's); a diffusion card or another architecture is refused.</summary>
    [Fact]
    public void Scd_student_from_a_consistency_model_starts_as_that_model()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        string firstCard = new ScdTrainer(Options("scd-first", 3, 1e-3), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);

        Assert.Equal(TrigFlow.DefaultTMid, Checkpoint.ReadCard(firstCard).TMid);
        var continued = Scd(teacherCard) with { StudentFrom = firstCard, TangentWarmup = 0, TMid = 0.6 };
        var trainer = new ScdTrainer(Options("scd-continued", 1, 1e-12), continued, Synthetic());
        string card = trainer.Run(TextWriter.Null, CancellationToken.None);
        var (first, _) = Checkpoint.Load(firstCard, CPU);
        var (teacher, _) = Checkpoint.Load(teacherCard, CPU);
        var (student, loaded) = Checkpoint.Load(card, CPU);
        Assert.Equal(firstCard, loaded.Training!.InitializedFrom);
        Assert.Equal(teacherCard, loaded.Training.Teacher); // the card names its teacher, not only the student it continued
        Assert.Equal(0.6, loaded.TMid); // --t-mid: the card's default 2-step time for serving
        double fromFirst = MaxDifference(first, student), fromTeacher = MaxDifference(teacher, student);
        output.WriteLine($"continued student vs its start: {fromFirst:G3}; vs the teacher: {fromTeacher:G3}");
        Assert.True(fromFirst < 1e-6, $"{fromFirst}");
        Assert.True(fromTeacher > 1e-4, $"{fromTeacher}");

        var e = Assert.Throws<ArgumentException>(() =>
            new ScdTrainer(Options("scd-from-teacher", 1), continued with { StudentFrom = teacherCard }, Synthetic()).Run(TextWriter.Null, CancellationToken.None));
        Assert.Contains("--student-from", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            new ScdTrainer(Options("scd-from-other", 1), continued with { StudentExtraBlocks = 1 }, Synthetic()).Run(TextWriter.Null, CancellationToken.None));
        Assert.Contains("architecture", e.Message);
    }

    /// <summary>
    /// `--dmd-weight`: during the fake score's head start the student trains exactly as without the regulariser (same
    /// weights, bit for bit) while the fake-score network learns; after it, the regulariser changes the student's update;
    /// the fake score is part of the resumable state and the card records the options.
    /// </summary>
    [Fact]
    public void Distribution_matching_leaves_sCD_alone_until_its_fake_score_has_learnt_then_moves_the_student()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        var dm = new DistributionMatchingOptions { Weight = 1, From = 0, FakeLearningRate = 1e-3, FakeUpdates = 2 };
        var plain = new ScdTrainer(Options("scd-plain", 3, 1e-3), Scd(teacherCard), Synthetic());
        plain.Run(TextWriter.Null, CancellationToken.None);
        var regularised = new ScdTrainer(Options("scd-dm", 3, 1e-3), Scd(teacherCard) with { DistributionMatching = dm }, Synthetic());
        var log = new StringWriter();
        regularised.Run(log, CancellationToken.None);
        Assert.Contains("fake-score network starts as the teacher", log.ToString());
        AssertSameWeights(State("scd-plain", "online.safetensors"), State("scd-dm", "online.safetensors"));
        var (teacher, _) = Checkpoint.Load(teacherCard, CPU);
        var fake = State("scd-dm", "fake-score.safetensors");
        Assert.Contains(teacher.state_dict(), p => MaxAbsDiff(p.Value, fake[p.Key]) > 1e-5); // it learnt from the student's samples

        var resumed = new ScdTrainer(Options("scd-dm", 5, 1e-3), Scd(teacherCard) with { DistributionMatching = dm }, Synthetic());
        var resumedLog = new StringWriter();
        string card = resumed.Run(resumedLog, CancellationToken.None);
        Assert.DoesNotContain("starts as the teacher", resumedLog.ToString());
        Assert.Equal(1.0, Checkpoint.ReadCard(card).Training!.Hyperparameters!["dmd_weight"]);
        Assert.Equal(2.0, Checkpoint.ReadCard(card).Training!.Hyperparameters!["dmd_fake_updates"]);

        foreach (var bad in new[] { dm with { Weight = 0 }, dm with { From = -1 }, dm with { FakeUpdates = 0 }, dm with { FakeLearningRate = double.NaN } })
            Assert.Throws<ArgumentOutOfRangeException>(() => new ScdTrainer(Options("scd-dm-bad", 1), Scd(teacherCard) with { DistributionMatching = bad }, Synthetic()));
    }

    /// <summary>
    /// Stopped and resumed, a run with the regulariser continues exactly: the fake score's weights and its optimizer's
    /// moments are part of the saved state (with fresh moments after a resume, the fake score's next steps would differ).
    /// </summary>
    [Fact]
    public void Distribution_matching_resumes_exactly_with_its_fake_scores_optimizer()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        var scd = Scd(teacherCard) with { DistributionMatching = new DistributionMatchingOptions { Weight = 1, FakeLearningRate = 1e-3 } };
        new ScdTrainer(Options("dm-whole", 6, 1e-3), scd, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new ScdTrainer(Options("dm-split", 3, 1e-3), scd, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(directory.File("dm-split"), "state", "fake-score-optimizer.bin")));
        new ScdTrainer(Options("dm-split", 6, 1e-3), scd, Synthetic()).Run(TextWriter.Null, CancellationToken.None);

        AssertSameState("dm-whole", "dm-split");
        var (whole, split) = (State("dm-whole", "fake-score.safetensors"), State("dm-split", "fake-score.safetensors"));
        AssertSameWeights(whole, split);
    }

    /// <summary>After the head start the regulariser's gradient reaches the student: its weights leave the plain run's.</summary>
    [Fact]
    public void Distribution_matching_after_its_head_start_changes_the_students_update()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        // Both runs train sCD for HeadStart + 2 iterations; the second has the regulariser from iteration 0, so its last
        // two iterations carry the distribution-matching gradient.
        long iterations = DistributionMatching.HeadStart + 2;
        new ScdTrainer(Options("scd-plain-long", iterations, 1e-3), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        var dm = new DistributionMatchingOptions { Weight = 10, FakeLearningRate = 1e-3 };
        var trainer = new ScdTrainer(Options("scd-dm-long", iterations, 1e-3), Scd(teacherCard) with { DistributionMatching = dm }, Synthetic());
        trainer.Run(TextWriter.Null, CancellationToken.None);
        var (plain, regularised) = (State("scd-plain-long", "online.safetensors"), State("scd-dm-long", "online.safetensors"));
        double difference = plain.Max(p => MaxAbsDiff(p.Value, regularised[p.Key]));
        output.WriteLine($"online weights after {iterations} iterations, with vs without the regulariser: max |difference| {difference:G3}");
        Assert.True(difference > 1e-6, $"{difference}");
        Assert.True(double.IsFinite(FixedDrawLoss(trainer)));
    }

    static double MaxDifference(ScmUNet a, ScmUNet b)
    {
        var theirs = b.state_dict();
        return a.state_dict().Max(p => MaxAbsDiff(p.Value, theirs[p.Key]));
    }
}
