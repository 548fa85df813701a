using Scm.Checkpoints;
using Scm.Training;
using static Scm.Tests.TestSupport;

namespace Scm.Tests;

/// <summary>The sCD schedules and targets: a changed rate on resume, the two-phase fine-tune, the EMA as target network, a guided teacher.</summary>
public partial class TrainingTests
{
    /// <summary>
    /// Adam's saved state carries the saved run's learning rate; a resume asking for another must use it (it did not: a
    /// fork resumed at a 10x lower rate ran at the old one). Resumed at a negligible rate, the online weights stay put.
    /// </summary>
    [Fact]
    public void Scd_run_resumed_with_another_learning_rate_trains_at_the_new_rate()
    {
        string teacherCard = TrainTeacher("teacher", 3);
        TrainScd(Options("fork", 3, 1e-3), teacherCard);
        var before = State("fork", "online.safetensors");
        string log = TrainScd(Options("fork", 6, 1e-12), teacherCard);
        Assert.Contains("Learning rate 0.001 -> 1E-12", log);
        AssertSameWeights(before, State("fork", "online.safetensors"));
    }

    /// <summary>
    /// The two-phase schedule: at FineTuneAt the online weights restart from the EMA and the rate drops; a run stopped
    /// before the switch and resumed past it ends exactly as an uninterrupted one.
    /// </summary>
    [Fact]
    public void Scd_fine_tune_phase_starts_from_the_ema_and_resumes_across_the_switch_exactly()
    {
        string teacherCard = TrainTeacher("teacher", 3);
        TrainingOptions TwoPhase(string run, long iterations, double fineTuneRate) =>
            Options(run, iterations, 1e-3) with { FineTuneAt = 3, FineTuneLearningRate = fineTuneRate };
        TrainScd(Options("first-phase", 3, 1e-3), teacherCard);
        string log = TrainScd(TwoPhase("negligible", 4, 1e-12), teacherCard);
        Assert.Contains("Fine-tuning from iteration 3", log);
        AssertSameWeights(State("first-phase", "ema.safetensors"), State("negligible", "online.safetensors"));

        TrainScd(TwoPhase("whole", 6, 1e-4), teacherCard);
        TrainScd(TwoPhase("split", 2, 1e-4), teacherCard);
        TrainScd(TwoPhase("split", 6, 1e-4), teacherCard);
        AssertSameState("whole", "split");
    }

    /// <summary>
    /// Annealing: the last phase's rate falls linearly to 0 at the run's end (the second phase's in a two-phase run,
    /// the first phase untouched); an annealed run is another run than a constant-rate one, and one stopped half-way
    /// and resumed ends exactly as an uninterrupted one.
    /// </summary>
    [Fact]
    public void Scd_annealed_rate_falls_to_zero_at_the_end_and_resumes_exactly()
    {
        var twoPhase = Options("schedule", 10, 1e-3) with { FineTuneAt = 6, FineTuneLearningRate = 4e-4, AnnealLearningRate = true };
        Assert.Equal([1e-3, 1e-3, 4e-4, 3e-4, 2e-4, 1e-4], new[] { 0L, 5, 6, 7, 8, 9 }.Select(i => Math.Round(twoPhase.LearningRateAt(i), 12)));
        var onePhase = Options("schedule", 4, 1e-3) with { AnnealLearningRate = true };
        Assert.Equal([1e-3, 7.5e-4, 5e-4, 2.5e-4], new[] { 0L, 1, 2, 3 }.Select(i => Math.Round(onePhase.LearningRateAt(i), 12)));

        string teacherCard = TrainTeacher("teacher", 3);
        TrainingOptions TwoPhase(string run, long iterations, bool anneal) =>
            Options(run, iterations, 1e-3) with { FineTuneAt = 3, FineTuneLearningRate = 5e-4, AnnealLearningRate = anneal };
        TrainScd(TwoPhase("annealed", 6, anneal: true), teacherCard);
        TrainScd(TwoPhase("constant", 6, anneal: false), teacherCard);
        var (annealed, constant) = (State("annealed", "online.safetensors"), State("constant", "online.safetensors"));
        Assert.Contains(annealed, p => MaxAbsDiff(p.Value, constant[p.Key]) > 1e-6);

        // Stopped at the switch (the first phase does not anneal, so a 3-iteration run is its first half) and resumed.
        TrainScd(TwoPhase("split", 3, anneal: true), teacherCard);
        TrainScd(TwoPhase("split", 6, anneal: true), teacherCard);
        AssertSameState("annealed", "split");
        Assert.Equal(6, Checkpoint.ReadCard(Path.Combine(directory.File("split"), "ema", "model.json")).Training!.Hyperparameters!["anneal_learning_rate_to"]);
    }

    /// <summary>
    /// The EMA as sCD's target network: where the EMA is the online network (decay 0) it trains exactly as the paper's
    /// stopgrad(theta), for both JVP methods; with a lagging EMA it is the paper's update before --ema-target-from and
    /// another one from there on.
    /// </summary>
    [Theory]
    [InlineData(JvpMethod.DoubleBackward)]
    [InlineData(JvpMethod.FiniteDifference)]
    public void Scd_with_the_ema_as_target_is_the_papers_update_until_it_starts_and_where_the_ema_is_the_online_network(JvpMethod jvp)
    {
        string teacherCard = TrainTeacher("teacher", 3);
        ScdOptions Target(long? emaFrom) => Scd(teacherCard) with { Jvp = jvp, EmaTargetFrom = emaFrom };
        TrainingOptions Run(string run, long iterations, double emaDecay) => Options(run, iterations, 1e-3) with { EmaDecay = emaDecay };
        TrainScd(Run("online", 6, 0), teacherCard, Target(null));
        TrainScd(Run("ema", 6, 0), teacherCard, Target(0));
        AssertSameState("online", "ema");

        TrainScd(Run("online-lagging", 3, 0.9), teacherCard, Target(null));
        TrainScd(Run("ema-lagging", 3, 0.9), teacherCard, Target(3));
        AssertSameWeights(State("online-lagging", "online.safetensors"), State("ema-lagging", "online.safetensors"));
        TrainScd(Run("online-lagging", 6, 0.9), teacherCard, Target(null));
        TrainScd(Run("ema-lagging", 6, 0.9), teacherCard, Target(3));
        var (online, ema) = (State("online-lagging", "online.safetensors"), State("ema-lagging", "online.safetensors"));
        Assert.Contains(online, p => MaxAbsDiff(p.Value, ema[p.Key]) > 1e-6);
        Assert.Equal(3, Checkpoint.ReadCard(Path.Combine(directory.File("ema-lagging"), "ema", "model.json")).Training!.Hyperparameters!["ema_target_from"]);
    }

    /// <summary>
    /// The target network with its own EMA (--target-ema-decay): at the model's decay it is the shared-EMA run bit for
    /// bit; at another decay another run, whose target and served EMA differ; stopped and resumed it continues exactly,
    /// also when the saved run had no target EMA yet (it starts from the model's EMA).
    /// </summary>
    [Fact]
    public void Scd_target_network_with_its_own_ema_resumes_exactly_and_is_the_shared_run_at_the_same_decay()
    {
        string teacherCard = TrainTeacher("teacher", 3);
        ScdOptions Target(double? decay) => Scd(teacherCard) with { Jvp = JvpMethod.FiniteDifference, EmaTargetFrom = 2, TargetEmaDecay = decay };
        TrainingOptions Run(string run, long iterations) => Options(run, iterations, 1e-3) with { EmaDecay = 0.9 };
        TrainScd(Run("shared", 6), teacherCard, Target(null));
        TrainScd(Run("same-decay", 6), teacherCard, Target(0.9));
        AssertSameState("shared", "same-decay");

        TrainScd(Run("own", 6), teacherCard, Target(0.5));
        var (own, shared) = (State("own", "online.safetensors"), State("shared", "online.safetensors"));
        Assert.Contains(own, p => MaxAbsDiff(p.Value, shared[p.Key]) > 1e-6);
        var (served, target) = (State("own", "ema.safetensors"), State("own", "target-ema.safetensors"));
        Assert.Contains(served, p => MaxAbsDiff(p.Value, target[p.Key]) > 1e-6);
        Assert.Equal(0.5, Checkpoint.ReadCard(Path.Combine(directory.File("own"), "ema", "model.json")).Training!.Hyperparameters!["target_ema_decay"]);

        TrainScd(Run("split", 3), teacherCard, Target(0.5));
        TrainScd(Run("split", 6), teacherCard, Target(0.5));
        AssertSameState("own", "split");
        AssertSameWeights(target, State("split", "target-ema.safetensors"));

        TrainScd(Run("late", 3), teacherCard, Target(null));
        string log = TrainScd(Run("late", 6), teacherCard, Target(0.9));
        Assert.Contains("starts from the model's EMA", log);
        AssertSameState("shared", "late");
    }

    /// <summary>
    /// A guided teacher (--teacher-guidance): scale 1 is exactly the unguided run; another scale distils another ODE (the
    /// weights differ) and the card records it. An unconditional teacher cannot be guided.
    /// </summary>
    [Fact]
    public void Scd_from_a_guided_teacher_is_the_unguided_run_at_scale_1_and_another_run_elsewhere()
    {
        string teacherCard = TrainTeacher("teacher", 3);
        ScdOptions Guided(double scale) => Scd(teacherCard) with { TeacherGuidance = scale };
        TrainScd(Options("default", 6, 1e-3), teacherCard);
        TrainScd(Options("scale-1", 6, 1e-3), teacherCard, Guided(1));
        AssertSameState("default", "scale-1");

        TrainScd(Options("scale-2", 3, 1e-3), teacherCard, Guided(2));
        var (unguided, guided) = (State("default", "online.safetensors"), State("scale-2", "online.safetensors"));
        Assert.Contains(unguided, p => MaxAbsDiff(p.Value, guided[p.Key]) > 1e-6);
        var hyperparameters = Checkpoint.ReadCard(Path.Combine(directory.File("scale-2"), "ema", "model.json")).Training!.Hyperparameters!;
        Assert.Equal(2, hyperparameters["teacher_guidance"]);
        Assert.False(Checkpoint.ReadCard(Path.Combine(directory.File("default"), "ema", "model.json")).Training!.Hyperparameters!.ContainsKey("teacher_guidance"));

        new TeacherTrainer(Options("unconditional", 1), Tiny(numClasses: 0), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        string unconditionalCard = Path.Combine(directory.File("unconditional"), "ema", "model.json");
        var e = Assert.Throws<ArgumentException>(() =>
            new ScdTrainer(Options("refused", 1), Scd(unconditionalCard) with { TeacherGuidance = 2 }, Synthetic()));
        Assert.Contains("--teacher-guidance", e.Message);
    }
}
