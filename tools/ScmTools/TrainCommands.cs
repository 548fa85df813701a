using System.CommandLine;
using Scm.Checkpoints;
using Scm.Evaluation;
using Scm.Network;
using Scm.Training;
using TorchSharp;

namespace ScmTools;

/// <summary>`scm-tools train teacher|scd|inspect|t-mid`: resumable, seeded training with a progress line, and a run's inspection.</summary>
public static class TrainCommands
{
    public static Command Create()
    {
        var train = new Command("train", "Train the TrigFlow teacher or distil it into an sCM (resumable).");
        train.Subcommands.Add(Teacher());
        train.Subcommands.Add(Scd());
        train.Subcommands.Add(InspectCommand.Create());
        train.Subcommands.Add(TMidCommand.Create());
        train.Subcommands.Add(PlotCommand.Create());
        return train;
    }

    sealed record Common(Option<string> Run, Option<string> Data, Option<long> Iterations, Option<int> Batch, Option<double> Lr,
        Option<ulong> Seed, Option<int> Every, Option<int> Threads, Option<string> Device, Option<double> EmaDecay,
        Option<double> PMean, Option<double> PStd, Option<bool> Float64, Option<string?> Hardware,
        Option<long?> FineTuneAt, Option<double> FineTuneLr, Option<bool> AnnealLr, Option<double> LabelDropout);

    static Common AddCommon(Command command, string defaultRun, long iterations, int batch, double lr, double emaDecay, double pMean, double pStd,
        double labelDropout)
    {
        var common = new Common(
            new Option<string>("--run") { Description = "Run directory (resumes if it holds a checkpoint).", DefaultValueFactory = _ => Path.Combine(RepoPaths.Runs, defaultRun) },
            new Option<string>("--data") { Description = "MNIST folder (infra/fetch-mnist.sh).", DefaultValueFactory = _ => RepoPaths.Data },
            new Option<long>("--iterations") { Description = "Total iterations.", DefaultValueFactory = _ => iterations },
            new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => batch },
            new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => lr },
            new Option<ulong>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 1UL },
            new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints.", DefaultValueFactory = _ => 250 },
            new Option<int>("--threads") { Description = "Torch threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount },
            new Option<string>("--device") { Description = "Torch device: cpu, cuda, cuda:1 ...", DefaultValueFactory = _ => "cpu" },
            new Option<double>("--ema-decay") { Description = "EMA decay per iteration.", DefaultValueFactory = _ => emaDecay },
            new Option<double>("--p-mean") { Description = "Time proposal: tau ~ N(P_mean, P_std^2), t = atan(e^tau / sigma_data).", DefaultValueFactory = _ => pMean },
            new Option<double>("--p-std") { Description = "Time proposal's P_std.", DefaultValueFactory = _ => pStd },
            new Option<bool>("--float64") { Description = "Train in float64 (numerics checks)." },
            new Option<string?>("--hardware") { Description = "Hardware recorded in the model card (default: core count and device)." },
            new Option<long?>("--fine-tune-at") { Description = "Second phase: from this iteration on, train at --fine-tune-lr, starting from the EMA weights." },
            new Option<double>("--fine-tune-lr") { Description = "Learning rate of the second phase.", DefaultValueFactory = _ => 1e-5 },
            new Option<bool>("--anneal-lr") { Description = "The last phase's rate falls linearly to 0 at --iterations (the schedule follows --iterations)." },
            new Option<double>("--label-dropout") { Description = "Fraction of samples trained without their class (the unconditional model).", DefaultValueFactory = _ => labelDropout });
        foreach (var option in new Option[]
                 {
                     common.Run, common.Data, common.Iterations, common.Batch, common.Lr, common.Seed, common.Every, common.Threads, common.Device,
                     common.EmaDecay, common.PMean, common.PStd, common.Float64, common.Hardware, common.FineTuneAt, common.FineTuneLr,
                     common.AnnealLr, common.LabelDropout
                 })
            command.Options.Add(option);
        return common;
    }

    static TrainingOptions Options(ParseResult r, Common c)
    {
        BenchCommands.ParseDevice(r.GetValue(c.Device)!); // a clear error before any data or model is loaded
        return new()
        {
            RunDirectory = r.GetValue(c.Run)!, DataDirectory = r.GetValue(c.Data)!, Iterations = r.GetValue(c.Iterations),
            BatchSize = r.GetValue(c.Batch), LearningRate = r.GetValue(c.Lr), Seed = r.GetValue(c.Seed),
            CheckpointEvery = r.GetValue(c.Every), Threads = r.GetValue(c.Threads), Device = r.GetValue(c.Device)!,
            PMean = r.GetValue(c.PMean), PStd = r.GetValue(c.PStd), EmaDecay = r.GetValue(c.EmaDecay),
            Float64 = r.GetValue(c.Float64), Hardware = r.GetValue(c.Hardware), FineTuneAt = r.GetValue(c.FineTuneAt), FineTuneLearningRate = r.GetValue(c.FineTuneLr),
            AnnealLearningRate = r.GetValue(c.AnnealLr), LabelDropout = r.GetValue(c.LabelDropout),
        };
    }

    static Command Teacher()
    {
        var command = new Command("teacher", "Train the TrigFlow diffusion teacher on MNIST.");
        var common = AddCommon(command, "teacher", iterations: 5000, batch: 64, lr: 5e-4, emaDecay: 0.999, pMean: -0.8, pStd: 1.6, labelDropout: 0.1);
        var frequency = new Option<double>("--time-embedding-max-frequency")
        {
            Description = "Highest frequency of the positional time embedding (frequencies 1..this, on c_noise(t) = t).",
            DefaultValueFactory = _ => NetworkConfig.Mnist.TimeEmbeddingMaxFrequency
        };
        var initializeFrom = new Option<string?>("--initialize-from")
        {
            Description = "Start a fresh run from this diffusion model's weights (same architecture; the time embedding's frequencies may differ)."
        };
        // Width and depth: the capacity question of docs/MODEL-ABLATIONS.md (a student starts from its teacher's weights,
        // so a wider student needs a wider teacher).
        var modelChannels = new Option<int>("--model-channels")
        {
            Description = $"Channels of the first level (a multiple of {NetworkConfig.Mnist.GroupNormGroups}; levels x{string.Join(", x", NetworkConfig.Mnist.ChannelMultipliers)}).",
            DefaultValueFactory = _ => NetworkConfig.Mnist.ModelChannels
        };
        var blocksPerLevel = new Option<int>("--blocks-per-level")
        {
            Description = "Residual blocks per level.", DefaultValueFactory = _ => NetworkConfig.Mnist.BlocksPerLevel
        };
        command.Options.Add(frequency);
        command.Options.Add(initializeFrom);
        command.Options.Add(modelChannels);
        command.Options.Add(blocksPerLevel);
        command.SetAction((r, ct) => Train(() =>
        {
            int channels = r.GetValue(modelChannels), blocks = r.GetValue(blocksPerLevel), groups = NetworkConfig.Mnist.GroupNormGroups;
            if (channels is < 8 or > 512 || channels % groups != 0)
                throw new CliException($"--model-channels must be a multiple of {groups} in [8, 512]; got {channels}.");
            if (blocks is < 1 or > 4) throw new CliException($"--blocks-per-level must be in [1, 4]; got {blocks}.");
            var options = Options(r, common);
            var data = LoadData(options.DataDirectory);
            var network = NetworkConfig.Mnist with { TimeEmbeddingMaxFrequency = r.GetValue(frequency), ModelChannels = channels, BlocksPerLevel = blocks };
            return new TeacherTrainer(options, network, data, r.GetValue(initializeFrom)).Run(Console.Out, ct);
        }));
        return command;
    }

    static Command Scd()
    {
        var command = new Command("scd", "Distil the teacher into a continuous-time consistency model (sCD).");
        var common = AddCommon(command, "scd", iterations: 2000, batch: 32, lr: 1e-4, emaDecay: 0.995, pMean: -1.0, pStd: 1.4, labelDropout: 0.1);
        var teacher = new Option<string>("--teacher")
        {
            Description = "Teacher model card (default: the output of `train teacher`; the shipped one is models/mnist-teacher/model.json).",
            DefaultValueFactory = _ => Path.Combine(RepoPaths.Runs, "teacher", "ema", "model.json")
        };
        var warmup = new Option<int>("--tangent-warmup") { Description = "Tangent warmup iterations H.", DefaultValueFactory = _ => 500 };
        var prior = new Option<bool>("--prior-weighting") { Description = "Use w(t) = 1/(sigma_data tan t)." };
        var norm = new Option<TangentNorm>("--tangent-norm")
        {
            Description = "Norm of the tangent normalisation g/(|g| + c): L2 (over all pixels, the paper's) or Rms (per pixel).",
            DefaultValueFactory = _ => TangentNorm.L2
        };
        var jvp = new Option<JvpMethod>("--jvp")
        {
            Description = "JVP of the tangent: DoubleBackward (exact), FiniteDifference (central, h = 3e-3; cheaper) or BackwardDifference (upwind, step --jvp-step).",
            DefaultValueFactory = _ => JvpMethod.DoubleBackward
        };
        var jvpStep = new Option<double>("--jvp-step")
        {
            Description = "Step h of --jvp BackwardDifference, in units of the JVP's tangents (t moves back by h cos t sin t).",
            DefaultValueFactory = _ => 0.05
        };
        var emaTargetFrom = new Option<long?>("--ema-target-from")
        {
            Description = "From this iteration on, take the target F_minus and its JVP from the EMA (a target network) instead of the online weights (the paper's).",
        };
        var targetEmaDecay = new Option<double?>("--target-ema-decay")
        {
            Description = "With --ema-target-from: the target network's own EMA decay (default: the target is the model's EMA, --ema-decay).",
        };
        var guidance = new Option<double>("--teacher-guidance")
        {
            Description = "Classifier-free guidance scale of the teacher's velocity (1 = none); the student learns that one scale.",
            DefaultValueFactory = _ => 1.0
        };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout rate of the student (default: the teacher's); needs --jvp DoubleBackward." };
        var extraBlocks = new Option<int>("--extra-blocks")
        {
            Description = "Residual blocks added to every stage of the student beyond the teacher's (more capacity; they start as the identity).",
        };
        var studentFrom = new Option<string?>("--student-from")
        {
            Description = "Start the student from this consistency model's card instead of the teacher (same architecture); pair with --tangent-warmup 0.",
        };
        var dmdWeight = new Option<double?>("--dmd-weight")
        {
            Description = "Weight of the distribution-matching regulariser (DMD on the student's 1- and 2-step samples against a fake-score network; default: off).",
        };
        var tMid = new Option<double>("--t-mid")
        {
            Description = "The model's 2-step intermediate time: validation points, distribution matching's 2-step samples, and the card's default for serving.",
            DefaultValueFactory = _ => Scm.TrigFlow.DefaultTMid
        };
        var probeTMids = new Option<string?>("--probe-t-mids")
        {
            Description = $"More t_mid (comma-separated, at most {ScdOptions.MaxProbeTMids}) the curve judges the 2-step at, beside --t-mid: " +
                          "e.g. the lower t_mid a model matched at 1.1 is served at.",
        };
        var dmdFrom = new Option<long>("--dmd-from") { Description = "With --dmd-weight: the first iteration of the regulariser." };
        var dmdFakeLr = new Option<double>("--dmd-fake-lr") { Description = "With --dmd-weight: the fake-score network's learning rate.", DefaultValueFactory = _ => 1e-4 };
        var dmdFakeUpdates = new Option<int>("--dmd-fake-updates") { Description = "With --dmd-weight: fake-score updates per iteration.", DefaultValueFactory = _ => 1 };
        var c = new Option<double>("--tangent-c") { Description = "c of the tangent normalisation.", DefaultValueFactory = _ => 0.1 };
        var every = new Option<int>("--evaluate-every")
        {
            Description = "Iterations between validation points (1- and 2-step FD and accuracy on the validation split, each point's EMA kept in snaps/N; 0 = none).",
            DefaultValueFactory = _ => 250
        };
        var samples = new Option<int>("--validation-samples") { Description = "Samples per validation point (a multiple of 10).", DefaultValueFactory = _ => 1000 };
        var classifier = new Option<string>("--classifier") { Description = "Evaluation classifier folder.", DefaultValueFactory = _ => Path.Combine(RepoPaths.Models, "mnist-classifier") };
        foreach (var option in new Option[]
                 {
                     teacher, warmup, prior, norm, jvp, jvpStep, emaTargetFrom, targetEmaDecay, guidance, dropout, extraBlocks, studentFrom,
                     tMid, probeTMids, dmdWeight, dmdFrom, dmdFakeLr, dmdFakeUpdates, c, every, samples, classifier,
                 })
            command.Options.Add(option);
        command.SetAction((r, ct) => Train(() =>
        {
            int evaluateEvery = r.GetValue(every);
            if (evaluateEvery < 0) throw new CliException($"--evaluate-every must be >= 0; got {evaluateEvery}.");
            var options = Options(r, common) with { EvaluateEvery = Math.Max(1, evaluateEvery) };
            foreach (var option in new Option[] { dmdFrom, dmdFakeLr, dmdFakeUpdates })
                if (r.GetValue(dmdWeight) is null && r.GetResult(option) is { Implicit: false })
                    throw new CliException($"{option.Name} needs --dmd-weight (it configures the distribution-matching regulariser, off without it).");
            var data = LoadData(options.DataDirectory);
            var scd = new ScdOptions
            {
                TeacherCardPath = r.GetValue(teacher)!, TangentWarmup = r.GetValue(warmup), PriorWeighting = r.GetValue(prior),
                TangentNorm = r.GetValue(norm), TangentNormalizationConstant = r.GetValue(c), Jvp = r.GetValue(jvp), BackwardStep = r.GetValue(jvpStep),
                EmaTargetFrom = r.GetValue(emaTargetFrom), TargetEmaDecay = r.GetValue(targetEmaDecay), TeacherGuidance = r.GetValue(guidance),
                StudentDropout = r.GetValue(dropout), StudentExtraBlocks = r.GetValue(extraBlocks), StudentFrom = r.GetValue(studentFrom), TMid = r.GetValue(tMid),
                ProbeTMids = BenchCommands.ParseTimes(r.GetValue(probeTMids), "--probe-t-mids") ?? [],
                DistributionMatching = r.GetValue(dmdWeight) is { } weight
                    ? new DistributionMatchingOptions { Weight = weight, From = r.GetValue(dmdFrom), FakeLearningRate = r.GetValue(dmdFakeLr), FakeUpdates = r.GetValue(dmdFakeUpdates) }
                    : null,
            };
            var trainer = new ScdTrainer(options, scd, data);
            if (evaluateEvery == 0) return trainer.Run(Console.Out, ct);
            using var probe = ValidationProbeFor(r.GetValue(classifier)!, data, r.GetValue(samples), options.Device);
            string title = PlotCommand.Title(options.RunDirectory);
            string curvePath = Path.Combine(options.RunDirectory, "curve.png");
            string card = trainer.Run(Console.Out, ct, probe, curve => TrainingCurvePlot.Save(curve.Points, title, curvePath));
            Console.WriteLine($"Best 2-step validation FD: {new RunState(options.RunDirectory).BestCardPath}; curve: {curvePath}");
            return card;
        }));
        return command;
    }

    internal static ValidationProbe ValidationProbeFor(string classifierFolder, MnistDigits data, int samples, string device, ulong seed = ValidationProbe.CurveSeed)
    {
        if (samples < MnistDigits.Classes || samples % MnistDigits.Classes != 0) throw new CliException($"--validation-samples must be a positive multiple of {MnistDigits.Classes}; got {samples}.");
        return new ValidationProbe(LoadClassifier(classifierFolder, device), data.ValidationImages, samples, BenchCommands.ParseDevice(device), seed);
    }

    internal static MnistClassifier LoadClassifier(string classifierFolder, string device)
    {
        string cardPath = Path.Combine(classifierFolder, ClassifierCheckpoint.CardFileName);
        if (!File.Exists(cardPath)) throw new CliException($"No evaluation classifier at {cardPath}: run `scm-tools eval` once (it trains one) or pass --classifier.");
        return ClassifierCheckpoint.Load(cardPath, BenchCommands.ParseDevice(device)).Classifier;
    }

    internal static MnistDigits LoadData(string directory)
    {
        if (!MnistDigits.IsPresent(directory)) throw new CliException(MnistDigits.MissingDataMessage(directory));
        return MnistDigits.Load(directory);
    }

    /// <summary>Runs a trainer; prints the EMA card it wrote (also after Ctrl+C, which saves and stops).</summary>
    static Task<int> Train(Func<string> train) => CliExit.Run(() => Console.WriteLine($"EMA checkpoint: {train()}"), Console.Error);
}
