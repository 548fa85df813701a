using Scm.Checkpoints;
using Scm.Network;
using Scm.Training;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>The sCD student's own architecture options: its dropout rate and blocks beyond the teacher's.</summary>
public partial class TrainingTests
{
    /// <summary>`--dropout`: the student gets its own dropout rate (the teacher's weights still fit); the card records it.</summary>
    [Fact]
    public void Scd_student_with_its_own_dropout_trains_with_the_exact_jvp_only()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        var withDropout = Scd(teacherCard) with { StudentDropout = 0.2 };
        var trainer = new ScdTrainer(Options("scd-dropout", 2, 1e-3), withDropout, Synthetic());
        string card = trainer.Run(TextWriter.Null, CancellationToken.None);
        Assert.Equal(0.2, Checkpoint.ReadCard(card).Network.Dropout);
        Assert.Equal(0, Checkpoint.ReadCard(teacherCard).Network.Dropout);
        Assert.True(double.IsFinite(FixedDrawLoss(trainer)));
        var e = Assert.Throws<ArgumentException>(() => new ScdTrainer(Options("scd-dropout-fd", 1), withDropout with { Jvp = JvpMethod.FiniteDifference }, Synthetic()));
        Assert.Contains("deterministic", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScdTrainer(Options("scd-dropout-bad", 1), withDropout with { StudentDropout = 1.0 }, Synthetic()));
    }

    /// <summary>`--extra-blocks`: the student has more blocks than its teacher, starts as the same function, trains, and its card loads.</summary>
    [Fact]
    public void Scd_student_with_extra_blocks_starts_as_its_teacher_and_its_card_records_them()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        var (teacher, card) = Checkpoint.Load(teacherCard, CPU);
        var grown = new ScmUNet(card.Network with { ExtraBlocksPerStage = 1 });
        Scm.Training.Ema.Copy(teacher, grown);
        Assert.True(grown.ParameterCount() > 1.3 * teacher.ParameterCount(), $"{grown.ParameterCount()} vs {teacher.ParameterCount()}");
        using (no_grad())
        {
            var x = randn([4, 1, 8, 8], generator: new Generator(7));
            var t = tensor(new[] { 0.2f, 0.7f, 1.1f, 1.5f });
            var labels = nn.functional.one_hot(tensor(new long[] { 0, 3, 5, 9 }), MnistDigits.Classes).to(float32);
            teacher.eval();
            grown.eval();
            Assert.Equal(0, (teacher.forward(x, t, labels, null) - grown.forward(x, t, labels, null)).abs().max().item<float>());
        }

        var withExtra = Scd(teacherCard) with { StudentExtraBlocks = 1, EmaTargetFrom = 1, TargetEmaDecay = 0.5 };
        var trainer = new ScdTrainer(Options("scd-extra", 3, 1e-3), withExtra, Synthetic());
        string studentCard = trainer.Run(TextWriter.Null, CancellationToken.None);
        Assert.True(double.IsFinite(FixedDrawLoss(trainer)));
        var (student, loaded) = Checkpoint.Load(studentCard, CPU);
        Assert.Equal(1, loaded.Network.ExtraBlocksPerStage);
        Assert.Equal(grown.ParameterCount(), student.ParameterCount());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScdTrainer(Options("scd-extra-bad", 1), withExtra with { StudentExtraBlocks = -1 }, Synthetic()));
    }
}
