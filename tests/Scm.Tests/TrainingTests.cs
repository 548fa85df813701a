using Scm.Checkpoints;
using Scm.Network;
using Scm.Training;
using TorchSharp.PyBridge;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>Teacher and sCD training on a tiny network and a tiny synthetic 10-class data set, in memory.</summary>
public partial class TrainingTests(ITestOutputHelper output) : IDisposable
{
    readonly TempDirectory directory = new();

    public void Dispose()
    {
        directory.Dispose();
        GC.SuppressFinalize(this);
    }

    static readonly NetworkConfig Config = Tiny(numClasses: MnistDigits.Classes);

    /// <summary>8x8 "digits": class c is a bright 2x3 bar at a class-specific place on a dark background, plus noise.</summary>
    internal static MnistDigits Synthetic()
    {
        Tensor Images(int count, long seed)
        {
            var generator = new Generator((ulong)seed);
            var images = full(count, 1, 8, 8, -1f);
            for (int i = 0; i < count; i++)
            {
                int c = i % MnistDigits.Classes, row = c / 4 * 3, column = c % 4 * 2;
                images[i, 0, row..(row + 2), column..(column + 3)] = tensor(1f);
            }
            return (images + 0.05f * randn([count, 1, 8, 8], generator: generator)).clamp(-1, 1);
        }
        Tensor Labels(int count) => arange(count, dtype: int64) % MnistDigits.Classes;
        var (fit, validation) = (Images(80, 1), Images(20, 3));
        return new MnistDigits
        {
            TrainImages = cat([fit, validation]), TrainLabels = cat([Labels(80), Labels(20)]), FitImages = fit, FitLabels = Labels(80),
            ValidationImages = validation, ValidationLabels = Labels(20), HeldOutImages = Images(20, 2), HeldOutLabels = Labels(20),
        };
    }

    TrainingOptions Options(string run, long iterations, double learningRate = 3e-3, bool float64 = false) => new()
    {
        RunDirectory = directory.File(run), DataDirectory = "unused: data is in memory", Iterations = iterations, BatchSize = 16,
        LearningRate = learningRate, EmaDecay = 0.9, Seed = 5, CheckpointEvery = 1000, Threads = 1, Float64 = float64,
    };

    /// <summary>Mean loss over fixed draws (iterations far beyond the run), so before/after differ only by the weights.</summary>
    static double FixedDrawLoss(Trainer trainer) => Enumerable.Range(100_000, 6).Average(i => trainer.EvaluateLoss(i));

    string TrainTeacher(string run, long iterations)
    {
        new TeacherTrainer(Options(run, iterations), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        return Path.Combine(directory.File(run), "ema", "model.json");
    }

    static ScdOptions Scd(string teacherCard) => new() { TeacherCardPath = teacherCard, TangentWarmup = 4 };

    [Fact]
    public void Teacher_loss_is_finite_and_decreases()
    {
        var first = new TeacherTrainer(Options("teacher", 1), Config, Synthetic());
        first.Run(TextWriter.Null, CancellationToken.None);
        double before = FixedDrawLoss(first);

        var rest = new TeacherTrainer(Options("teacher", 40), Config, Synthetic());
        var log = new StringWriter();
        string card = rest.Run(log, CancellationToken.None);
        double after = FixedDrawLoss(rest);

        output.WriteLine($"teacher loss at fixed draws: {before:F4} after 1 iteration, {after:F4} after 40");
        Assert.True(double.IsFinite(before) && double.IsFinite(after));
        Assert.True(after < 0.8 * before, $"loss {before} -> {after}");
        Assert.Contains("Resuming trigflow-diffusion from iteration 1", log.ToString());
        Assert.Equal(ModelCard.DiffusionKind, Checkpoint.ReadCard(card).Kind);
        Assert.Equal(40, Checkpoint.ReadCard(card).Training!.Iterations);
    }

    [Fact]
    public void Scd_loss_is_finite_and_decreases_and_the_student_changes()
    {
        string teacherCard = TrainTeacher("teacher", 20);
        var first = new ScdTrainer(Options("scd", 1, 1e-3), Scd(teacherCard), Synthetic());
        first.Run(TextWriter.Null, CancellationToken.None);
        double before = FixedDrawLoss(first);

        var rest = new ScdTrainer(Options("scd", 25, 1e-3), Scd(teacherCard), Synthetic());
        string card = rest.Run(TextWriter.Null, CancellationToken.None);
        double after = FixedDrawLoss(rest);

        output.WriteLine($"sCD loss at fixed draws: {before:F4} after 1 iteration, {after:F4} after 25");
        Assert.True(double.IsFinite(before) && double.IsFinite(after));
        Assert.True(after < before, $"loss {before} -> {after}");

        // The student started from the teacher's EMA and moved away from it.
        var (teacher, _) = Checkpoint.Load(teacherCard, CPU);
        var (student, studentCard) = Checkpoint.Load(card, CPU);
        Assert.Equal(ModelCard.ConsistencyKind, studentCard.Kind);
        Assert.Equal(teacherCard, studentCard.Training!.InitializedFrom);
        double moved = teacher.state_dict().Sum(kv => MaxAbsDiff(kv.Value, student.state_dict()[kv.Key]));
        Assert.True(moved > 0);
    }

    [Fact]
    public void Teacher_run_resumed_halfway_ends_with_the_same_weights_as_an_uninterrupted_run()
    {
        new TeacherTrainer(Options("whole", 6), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new TeacherTrainer(Options("split", 3), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new TeacherTrainer(Options("split", 6), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        AssertSameState("whole", "split");
    }

    [Fact]
    public void Scd_run_resumed_halfway_ends_with_the_same_weights_as_an_uninterrupted_run()
    {
        string teacherCard = TrainTeacher("teacher", 3);
        new ScdTrainer(Options("whole", 6, 1e-3), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new ScdTrainer(Options("split", 3, 1e-3), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new ScdTrainer(Options("split", 6, 1e-3), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        AssertSameState("whole", "split");
    }

    /// <summary>Runs sCD on the synthetic digits; returns its log.</summary>
    string TrainScd(TrainingOptions options, string teacherCard, ScdOptions? scd = null)
    {
        var log = new StringWriter();
        new ScdTrainer(options, scd ?? Scd(teacherCard), Synthetic()).Run(log, CancellationToken.None);
        output.WriteLine(log.ToString());
        return log.ToString();
    }

    Dictionary<string, Tensor> State(string run, string file) => Safetensors.LoadStateDict(Path.Combine(directory.File(run), "state", file));

    static void AssertSameWeights(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual) =>
        Assert.All(expected, p => Assert.True(MaxAbsDiff(p.Value, actual[p.Key]) < 1e-8, p.Key));

    /// <summary>
    /// Module.to() onto another dtype replaces every Parameter, exactly as a move to CUDA does: an optimizer made before
    /// the move held stale handles and Adam.step failed (KeyNotFoundException) on the GPU. Training in float64 walks the
    /// same path on a CPU, for the teacher and for sCD, fresh and resumed; the served checkpoint stays float32.
    /// </summary>
    [Fact]
    public void Training_after_a_parameter_replacing_move_steps_resumes_and_serves_float32()
    {
        new TeacherTrainer(Options("teacher64", 2, float64: true), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new TeacherTrainer(Options("teacher64", 3, float64: true), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        string teacherCard = Path.Combine(directory.File("teacher64"), "ema", "model.json");
        new ScdTrainer(Options("scd64", 2, 1e-3, float64: true), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        new ScdTrainer(Options("scd64", 3, 1e-3, float64: true), Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        Assert.Equal(3, new RunState(directory.File("scd64")).TryReadProgress()!.Iteration);
        var (served, _) = Checkpoint.Load(Path.Combine(directory.File("scd64"), "ema", "model.json"), CPU);
        Assert.All(served.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        var state = Safetensors.LoadStateDict(Path.Combine(directory.File("scd64"), "state", "online.safetensors"));
        Assert.All(state.Values, t => Assert.Equal(ScalarType.Float64, t.dtype));
    }

    [Fact]
    public void Teacher_initialized_from_another_teacher_gets_its_weights_with_a_new_time_embedding_and_refuses_another_architecture()
    {
        string source = TrainTeacher("teacher", 2);
        var smoother = Config with { TimeEmbeddingMaxFrequency = Config.TimeEmbeddingMaxFrequency / 4 };
        // One step at a negligible learning rate: the run's EMA is then the source's weights up to ~1e-12.
        var trainer = new TeacherTrainer(Options("teacher-smooth", 1, learningRate: 1e-12), smoother, Synthetic(), initializeFrom: source);
        string card = trainer.Run(TextWriter.Null, CancellationToken.None);

        var (from, _) = Checkpoint.Load(source, CPU);
        var (to, toCard) = Checkpoint.Load(card, CPU);
        Assert.Equal(smoother.TimeEmbeddingMaxFrequency, toCard.Network.TimeEmbeddingMaxFrequency);
        Assert.Equal(source, toCard.Training!.InitializedFrom);
        var weights = from.state_dict();
        Assert.All(to.state_dict(), p => Assert.True(p.Value.allclose(weights[p.Key], rtol: 0, atol: 1e-6), p.Key));

        var wider = Config with { ModelChannels = Config.ModelChannels * 2 };
        var e = Assert.Throws<ArgumentException>(() =>
            new TeacherTrainer(Options("teacher-wider", 1), wider, Synthetic(), initializeFrom: source).Run(TextWriter.Null, CancellationToken.None));
        Assert.Contains("another architecture", e.Message);
    }

    [Theory]
    [InlineData(JvpMethod.FiniteDifference)]
    [InlineData(JvpMethod.BackwardDifference)]
    public void Scd_with_a_finite_difference_jvp_trains_and_refuses_a_network_with_dropout(JvpMethod method)
    {
        string teacherCard = TrainTeacher("teacher", 2);
        var fd = Scd(teacherCard) with { Jvp = method };
        var trainer = new ScdTrainer(Options($"scd-{method}", 3, 1e-3), fd, Synthetic());
        trainer.Run(TextWriter.Null, CancellationToken.None);
        Assert.True(double.IsFinite(FixedDrawLoss(trainer)));

        var (network, card) = Checkpoint.Load(teacherCard, CPU);
        Checkpoint.Save(network, card with { Network = card.Network with { Dropout = 0.1 } }, directory.File("dropout/model.json"));
        var e = Assert.Throws<ArgumentException>(() => new ScdTrainer(Options("scd-dropout", 1), fd with { TeacherCardPath = directory.File("dropout/model.json") }, Synthetic()));
        Assert.Contains("deterministic", e.Message);
    }

    [Fact]
    public void Validation_curve_keeps_points_each_point_s_EMA_and_the_best_and_drops_points_past_a_resume()
    {
        string teacherCard = TrainTeacher("teacher", 2);
        using var probe = new Scm.Evaluation.ValidationProbe(TinyClassifier(), Synthetic().ValidationImages, samples: 20, CPU, computeBatch: 10);
        var options = Options("scd", 4, 1e-3) with { EvaluateEvery = 2, CheckpointEvery = 2 };
        var seen = new List<int>();
        new ScdTrainer(options, Scd(teacherCard), Synthetic()).Run(TextWriter.Null, CancellationToken.None, probe, curve => seen.Add(curve.Points.Count));
        Assert.Equal([1, 2], seen);
        var curve = new TrainingCurve(directory.File("scd"));
        curve.Load(resumedIteration: 4);
        Assert.Equal([2L, 4L], curve.Points.Select(p => p.Iteration));
        Assert.All(curve.Points, p => Assert.True(double.IsFinite(p.TwoStepFd) && p.TwoStepAccuracy is >= 0 and <= 1));
        Assert.True(File.Exists(Path.Combine(directory.File("scd"), "best", "model.json")));
        foreach (long iteration in new[] { 2L, 4L }) // every validation point's EMA is kept, to be judged again later
            Assert.Equal(iteration, Checkpoint.ReadCard(Path.Combine(directory.File("scd"), "snaps", $"{iteration}", "model.json")).Training!.Iterations);
        curve.Load(resumedIteration: 2);
        Assert.Equal([2L], curve.Points.Select(p => p.Iteration));
    }

    /// <summary>An untrained classifier for 8x8 images: enough to exercise the probe's plumbing (not its judgement).</summary>
    internal static readonly Scm.Evaluation.ClassifierConfig TinyClassifierConfig = new() { Resolution = 8, Channels = [8, 8, 8, 8], FeatureChannels = 8 };

    internal static Scm.Evaluation.MnistClassifier TinyClassifier()
    {
        var classifier = new Scm.Evaluation.MnistClassifier(TinyClassifierConfig);
        classifier.eval();
        return classifier;
    }

    [Fact]
    public void A_cancelled_run_saves_and_resumes_where_it_stopped()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var log = new StringWriter();
        new TeacherTrainer(Options("run", 5), Config, Synthetic()).Run(log, cancelled.Token);
        Assert.Contains("Stopped at iteration 0", log.ToString());
        Assert.Equal(0, new RunState(directory.File("run")).TryReadProgress()!.Iteration);
        new TeacherTrainer(Options("run", 5), Config, Synthetic()).Run(TextWriter.Null, CancellationToken.None);
        Assert.Equal(5, new RunState(directory.File("run")).TryReadProgress()!.Iteration);
    }

    [Fact]
    public void A_run_directory_of_another_objective_is_refused()
    {
        string teacherCard = TrainTeacher("teacher", 1);
        var scd = new ScdTrainer(Options("teacher", 2), Scd(teacherCard), Synthetic());
        var e = Assert.Throws<InvalidOperationException>(() => scd.Run(TextWriter.Null, CancellationToken.None));
        Assert.Contains("holds a 'trigflow-diffusion' run, not 'scd'", e.Message);
    }

    void AssertSameState(string a, string b)
    {
        foreach (var file in new[] { "online.safetensors", "ema.safetensors" })
        {
            var left = Safetensors.LoadStateDict(Path.Combine(directory.File(a), "state", file));
            var right = Safetensors.LoadStateDict(Path.Combine(directory.File(b), "state", file));
            Assert.Equal(left.Keys.Order(), right.Keys.Order());
            foreach (var (name, tensor) in left)
                Assert.True(Floats(tensor).SequenceEqual(Floats(right[name])), $"{file}: '{name}' differs by {MaxAbsDiff(tensor, right[name]):E2}");
        }
        Assert.Equal(6, new RunState(directory.File(b)).TryReadProgress()!.Iteration);
    }
}
