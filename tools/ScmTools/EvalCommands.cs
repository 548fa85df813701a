using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Scm.Checkpoints;
using Scm.Evaluation;
using Scm.Network;
using Scm.Sampling;
using Scm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ScmTools;

/// <summary>
/// `scm-tools eval`: judges the sCM student against its diffusion teacher on the held-out MNIST digits (class
/// accuracy, Fréchet distance in an MNIST classifier's feature space, time per image) and writes docs/QUALITY.md.
/// </summary>
public static class EvalCommands
{
    const int Classes = MnistDigits.Classes;
    static readonly int[] TeacherNfes = [2, 8, 63];

    sealed record Settings(string Student, string Teacher, string Classifier, bool RetrainClassifier, string Data, int Samples,
        int BatchSize, int Threads, string? Output, ulong Seed, int NoiseSeeds, int TeacherNoiseSeeds, double Guidance, string Device, string? Grid, NetworkPrecision Precision);

    public static Command Create()
    {
        var student = new Option<string>("--student") { Description = "sCM student model card.", DefaultValueFactory = _ => Path.Combine(RepoPaths.Models, "mnist-scm", "model.json") };
        var teacher = new Option<string>("--teacher")
        {
            Description = "Diffusion teacher model card (default: models/mnist-teacher/model.json if it exists, else runs/teacher/ema/model.json).",
            DefaultValueFactory = _ => RepoPaths.JudgingTeacher
        };
        var classifier = new Option<string>("--classifier")
        {
            Description = "Folder of the evaluation classifier (trained there if missing).",
            DefaultValueFactory = _ => Path.Combine(RepoPaths.Models, "mnist-classifier")
        };
        var retrain = new Option<bool>("--retrain-classifier") { Description = "Train the classifier again even if it exists." };
        var data = new Option<string>("--data") { Description = "MNIST folder (infra/fetch-mnist.sh).", DefaultValueFactory = _ => RepoPaths.Data };
        var samples = new Option<int>("--samples") { Description = "Generated digits per sampler (a multiple of 10: equal count per class).", DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch-size") { Description = "Sampling batch size, the same for every row (timings depend on it).", DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--output") { Description = "Markdown report to write, e.g. docs/QUALITY.md (default: none; the table is printed either way)." };
        var seed = new Option<ulong>("--seed") { Description = "Noise seed of the generated digits.", DefaultValueFactory = _ => 2024UL };
        var noiseSeeds = new Option<int>("--noise-seeds")
        {
            Description = "Also judge the sCM rows on this many noise seeds in all (--seed, --seed + 1, ...) and report mean and range: " +
                          "how much one seed's figures move (1 = only --seed).",
            DefaultValueFactory = _ => 5
        };
        var teacherNoiseSeeds = new Option<int>("--teacher-noise-seeds")
        {
            Description = "Also judge the teacher's 63-NFE row on the first N of those seeds (the same noise as the sCM rows); the FD ratios then " +
                          "divide mean by mean. Each seed costs 63 network calls per digit (~20 min for 2,000 digits on 2 CPU cores).",
            DefaultValueFactory = _ => 1
        };
        var guidance = new Option<double>("--teacher-guidance")
        {
            Description = "Classifier-free guidance scale of the teacher rows (1 = none; otherwise each step costs 2 network calls).",
            DefaultValueFactory = _ => 1.0
        };
        var device = new Option<string>("--device") { Description = "Torch device: cpu, cuda, ...", DefaultValueFactory = _ => "cpu" };
        var grid = new Option<string?>("--grid")
        {
            Description = $"PNG of sample digits to write, e.g. docs/img/samples.png: held-out digits, teacher 63 NFE, sCM 2-step, sCM 1-step, " +
                          $"one row per class, the first {SampleGrid.Columns} of each (default: none).",
        };

        var command = new Command("eval", "Compare sCM 1/2-step sampling with the teacher's PF-ODE at 2, 8 and 63 NFE; write docs/QUALITY.md.");
        var precision = BenchCommands.PrecisionOption();
        foreach (var option in new Option[] { student, teacher, classifier, retrain, data, samples, batch, threads, output, seed, noiseSeeds, teacherNoiseSeeds, guidance, device, grid, precision })
            command.Options.Add(option);
        command.SetAction((r, ct) => CliExit.Run(() =>
        {
            var settings = new Settings(r.GetValue(student)!, r.GetValue(teacher)!, r.GetValue(classifier)!, r.GetValue(retrain), r.GetValue(data)!,
                r.GetValue(samples), r.GetValue(batch), r.GetValue(threads), r.GetValue(output), r.GetValue(seed), r.GetValue(noiseSeeds), r.GetValue(teacherNoiseSeeds),
                r.GetValue(guidance), r.GetValue(device)!, r.GetValue(grid), r.GetValue(precision));
            Run(settings, Console.Out, ct);
        }, Console.Error));
        return command;
    }

    static void Run(Settings s, TextWriter log, CancellationToken ct)
    {
        if (s.Samples < Classes || s.Samples % Classes != 0) throw new CliException($"--samples must be a positive multiple of {Classes} (equal count per class); got {s.Samples}.");
        if (s.BatchSize < 1 || s.Samples % s.BatchSize != 0) throw new CliException($"--batch-size must divide --samples ({s.Samples}) so every timed batch has the same size; got {s.BatchSize}.");
        if (s.Threads < 1) throw new CliException("--threads must be >= 1.");
        if (s.NoiseSeeds is < 1 or > 100) throw new CliException($"--noise-seeds must be in [1, 100]; got {s.NoiseSeeds}.");
        if (s.TeacherNoiseSeeds < 1 || s.TeacherNoiseSeeds > s.NoiseSeeds)
            throw new CliException($"--teacher-noise-seeds must be in [1, --noise-seeds = {s.NoiseSeeds}]; got {s.TeacherNoiseSeeds}.");
        if (!(s.Guidance is >= 0 and <= 100)) throw new CliException($"--teacher-guidance must be in [0, 100] (1 = none); got {s.Guidance}.");
        if (!MnistDigits.IsPresent(s.Data)) throw new CliException(MnistDigits.MissingDataMessage(s.Data));
        // Fail on a missing, malformed or unsuitable checkpoint now, not after minutes of classifier training.
        foreach (string path in new[] { s.Student, s.Teacher })
        {
            var card = Checkpoint.ReadCard(path);
            if (card.Network.NumClasses != Classes) throw new CliException($"{path}: the evaluation needs a {Classes}-class conditional model; this one has {card.Network.NumClasses} classes.");
        }
        set_num_threads(s.Threads);
        var device = BenchCommands.ParseDevice(s.Device);
        var warnings = new List<string>();
        string loadAtStart = BenchmarkLog.LoadAverage();

        log.WriteLine($"Loading MNIST from {s.Data} ...");
        var data = MnistDigits.Load(s.Data);
        var (classifier, classifierCard) = LoadOrTrainClassifier(s, data, log, ct);
        double heldOutAccuracy = ClassifierTrainer.Accuracy(classifier, data.HeldOutImages, data.HeldOutLabels);
        log.WriteLine($"(a) Classifier accuracy on the {data.HeldOutImages.shape[0]:N0} held-out digits: {heldOutAccuracy:P2}");
        using var heldOutFeatures = classifier.ExtractFeatures(data.HeldOutImages);
        var (heldOutMean, heldOutCovariance) = FrechetDistance.Statistics(heldOutFeatures);

        var rows = new List<QualityRow>();
        rows.Add(ReferenceRow(DigitQuality.Floor(classifier, data.TrainImages, data.TrainLabels, heldOutFeatures, s.Samples / Classes)));
        log.WriteLine($"Reference: real train digits vs held-out, FD {rows[0].FrechetDistance:F3}");

        var (studentNet, studentCard) = Checkpoint.Load(s.Student, device);
        var (teacherNet, teacherCard) = Checkpoint.Load(s.Teacher, device);
        studentNet.RunAt(s.Precision);
        teacherNet.RunAt(s.Precision);
        if (studentCard.Kind != ModelCard.ConsistencyKind)
            warnings.Add($"the student card {Relative(s.Student)} is a '{studentCard.Kind}' model, not a consistency model: its sCM rows are not meaningful.");
        if (teacherCard.Kind != ModelCard.DiffusionKind)
            warnings.Add($"the teacher card {Relative(s.Teacher)} is a '{teacherCard.Kind}' model, not a diffusion model: its PF-ODE rows are not meaningful.");
        foreach (var w in warnings) log.WriteLine($"Warning: {w}");

        List<SampleSpec> Specs(ulong seed) => DigitQuality.ClassBalancedSpecs(seed, s.Samples).Specs;
        var (specs, classes) = DigitQuality.ClassBalancedSpecs(s.Seed, s.Samples);
        var teacherSpecs = specs.Select(spec => spec with { Guidance = s.Guidance }).ToList();
        var requested = tensor(classes);
        var gridIndex = tensor(SampleGrid.FirstOfEachClass(Classes, s.Samples / Classes));
        var gridPanels = new Dictionary<string, Tensor>();

        Warmup(studentNet, s.BatchSize, device);
        Warmup(teacherNet, s.BatchSize, device);
        // Both samplers run the network on compute chunks of exactly --batch-size: the same kernels' batch for every row.
        var student = new ConsistencySampler(studentNet, device, computeBatch: s.BatchSize);
        var teacher = new TeacherSampler(teacherNet, device, computeBatch: s.BatchSize);
        var scm1 = MeasureRow("sCM 1-step", "1", specs, b => student.Sample(b, SamplingSchedule.ForSteps(1), ct));
        // 2 steps at the card's t_mid (the one the model was selected with; sCM's 1.1 for a card without one).
        var scm2 = MeasureRow("sCM 2-step" + (studentCard.TMid is { } tMid ? $" (t_mid {tMid:G3})" : ""), "2", specs, b => student.Sample(b, SamplingSchedule.ForSteps(2, tMid: studentCard.TMid), ct));
        rows.Add(scm1);
        rows.Add(scm2);
        // The same samplers on other noise: FD and accuracy of one seed are samples too (untimed). The student's seeds come
        // first (seconds each), so its figures are on the log before the teacher's minutes start.
        var spread = new List<SeedSpread>
        {
            Spread(scm1, s.NoiseSeeds, b => student.Sample(b, SamplingSchedule.ForSteps(1), ct)),
            Spread(scm2, s.NoiseSeeds, b => student.Sample(b, SamplingSchedule.ForSteps(2, tMid: studentCard.TMid), ct)),
        };
        QualityRow? teacher63 = null;
        foreach (int nfe in TeacherNfes)
        {
            var schedule = TeacherSchedule.ForNfe(nfe);
            int calls = TeacherSampler.NetworkEvaluations(schedule, teacherSpecs);
            string name = $"Teacher PF-ODE, DPM-Solver++(2M), {nfe} steps" + (s.Guidance != 1 ? $", CFG {s.Guidance:G3}" : "");
            var row = MeasureRow(name, calls.ToString(CultureInfo.InvariantCulture), teacherSpecs, b => teacher.Sample(b, schedule, ct));
            rows.Add(row);
            if (nfe == 63) teacher63 = row;
        }
        // The teacher's 63-NFE row costs minutes per seed on a CPU, so it takes only --teacher-noise-seeds of them.
        if (s.TeacherNoiseSeeds > 1)
            spread.Add(Spread(teacher63!, s.TeacherNoiseSeeds, b => teacher.Sample(b.Select(spec => spec with { Guidance = s.Guidance }).ToList(), TeacherSchedule.ForNfe(63), ct)));

        var report = new QualityReport
        {
            CommandLine = BenchmarkLog.CommandLine(),
            Machine = $"{Environment.ProcessorCount} CPU cores ({RuntimeInformation.ProcessArchitecture}), {RuntimeInformation.OSDescription}, " +
                      $"{RuntimeInformation.FrameworkDescription}, device {s.Device}, networks in {s.Precision}, torch threads: {s.Threads}, oneDNN ISA: {Scm.OneDnnIsa.Setting}" +
                      $"; load average (1 min) {loadAtStart} at start, {BenchmarkLog.LoadAverage()} at end (timings are wall clock: other jobs inflate them)",
            Date = DateTimeOffset.UtcNow,
            Samples = s.Samples,
            BatchSize = s.BatchSize,
            Seed = s.Seed,
            ClassifierAccuracy = heldOutAccuracy,
            HeldOutCount = (int)data.HeldOutImages.shape[0],
            ClassifierDescription = $"CNN `{Relative(Path.Combine(s.Classifier, ClassifierCheckpoint.CardFileName))}` " +
                                    $"({classifierCard.Training?.Parameters ?? classifier.ParameterCount():N0} parameters, {classifierCard.Network.FeatureChannels}-d penultimate features, " +
                                    $"trained on the 8,000 train digits only{TrainingCost(classifierCard.Training)})",
            Checkpoints =
            [
                new("sCM student", Relative(s.Student), studentCard.Kind, studentCard.Training?.Iterations, studentCard.Training?.WallClockSeconds),
                new("Teacher", Relative(s.Teacher), teacherCard.Kind, teacherCard.Training?.Iterations, teacherCard.Training?.WallClockSeconds),
            ],
            Rows = rows,
            ScmOneStep = scm1,
            ScmTwoStep = scm2,
            Teacher63 = teacher63!,
            NoiseSeeds = s.NoiseSeeds,
            Spread = spread,
            Warnings = warnings,
            StudentTMid = studentCard.TMid,
        };
        log.WriteLine();
        log.Write(report.Table());
        log.WriteLine();
        log.Write(report.SpreadTable());
        log.WriteLine($"FD ratio sCM 2-step / teacher 63: {report.FdRatio(report.ScmTwoStep):F2}, over the noise seeds {report.MeanFdRatio(report.ScmTwoStep):F2}; " +
                      $"sCM 1-step / teacher 63: {report.FdRatio(report.ScmOneStep):F2}, over the noise seeds {report.MeanFdRatio(report.ScmOneStep):F2}; " +
                      $"time ratio teacher 63 / sCM 2-step: {report.SpeedRatio:F1}x");
        if (s.Grid is { } gridPath)
        {
            var real = cat(Enumerable.Range(0, Classes).Select(c =>
                data.HeldOutImages.index_select(0, nonzero(data.HeldOutLabels.eq(c)).flatten().narrow(0, 0, SampleGrid.Columns))).ToList());
            SampleGrid.Save(gridPath, [real, gridPanels[teacher63!.Sampler], gridPanels[scm2.Sampler], gridPanels[scm1.Sampler]], Classes);
            log.WriteLine($"Sample grid written to {gridPath} (held-out digits | teacher 63 NFE | sCM 2-step | sCM 1-step; one row per class)");
        }
        if (s.Output is { } reportPath)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(reportPath))!);
            File.WriteAllText(reportPath, report.ToMarkdown());
            log.WriteLine($"Report written to {reportPath}");
        }

        // Samples specs on compute chunks of --batch-size, the sampler calls timed on clock, with a progress line every 10 s.
        Tensor SampleInBatches(string label, List<SampleSpec> specs, Func<IReadOnlyList<SampleSpec>, Tensor> sample, Stopwatch clock)
        {
            var images = new List<Tensor>();
            var lastPrint = Stopwatch.StartNew();
            for (int start = 0; start < specs.Count; start += s.BatchSize)
            {
                ct.ThrowIfCancellationRequested();
                var batch = specs.GetRange(start, s.BatchSize);
                images.Add(Measure.Timed(clock, device, () => sample(batch)));
                int done = start + s.BatchSize;
                if (done == specs.Count || lastPrint.Elapsed.TotalSeconds >= 10)
                {
                    log.WriteLine($"  [{label}] {done}/{specs.Count} images, {Measure.Rate(done / clock.Elapsed.TotalSeconds)} images/s");
                    lastPrint.Restart();
                }
            }
            var all = cat(images);
            foreach (var t in images) t.Dispose();
            return all;
        }

        // The row's own seed first, then --seed + 1 .. --seed + seeds - 1 on the same sampler.
        SeedSpread Spread(QualityRow row, int seeds, Func<IReadOnlyList<SampleSpec>, Tensor> sample)
        {
            var perSeed = new List<(double Accuracy, double Fd)> { (row.ClassAccuracy!.Value, row.FrechetDistance) };
            for (int k = 1; k < seeds; k++)
            {
                using var all = SampleInBatches($"{row.Sampler}, seed {s.Seed + (ulong)k}", Specs(s.Seed + (ulong)k), sample, new Stopwatch());
                var (accuracy, fd) = DigitQuality.Judge(classifier, all, requested, heldOutMean, heldOutCovariance);
                perSeed.Add((accuracy, fd));
                log.WriteLine($"{row.Sampler}, seed {s.Seed + (ulong)k}: class accuracy {accuracy:P1}, FD {fd:F3}");
            }
            var spread = SeedSpread.Of(row.Sampler, perSeed);
            if (seeds > 1) log.WriteLine($"{row.Sampler}, over {seeds} noise seeds: class accuracy {spread.AccuracyMean:P1}, FD {spread.FdMean:F3} (mean)");
            return spread;
        }

        QualityRow MeasureRow(string name, string nfe, List<SampleSpec> rowSpecs, Func<IReadOnlyList<SampleSpec>, Tensor> sample)
        {
            var clock = new Stopwatch();
            using var all = SampleInBatches(name, rowSpecs, sample, clock);
            if (s.Grid is not null) gridPanels[name] = all.index_select(0, gridIndex).cpu();
            double secondsPerImage = clock.Elapsed.TotalSeconds / rowSpecs.Count;
            var (accuracy, fd) = DigitQuality.Judge(classifier, all, requested, heldOutMean, heldOutCovariance);
            log.WriteLine($"{name}: class accuracy {accuracy:P1}, FD {fd:F3}, {Measure.Rate(1 / secondsPerImage)} images/s (batch {s.BatchSize})");
            return new QualityRow(name, nfe, accuracy, fd, secondsPerImage);
        }
    }

    static (MnistClassifier, ClassifierCard) LoadOrTrainClassifier(Settings s, MnistDigits data, TextWriter log, CancellationToken ct)
    {
        string cardPath = Path.Combine(s.Classifier, ClassifierCheckpoint.CardFileName);
        var device = BenchCommands.ParseDevice(s.Device);
        if (File.Exists(cardPath) && !s.RetrainClassifier)
        {
            log.WriteLine($"Classifier: {cardPath}");
            return ClassifierCheckpoint.Load(cardPath, device);
        }
        log.WriteLine(s.RetrainClassifier ? "Retraining the classifier (--retrain-classifier)." : $"No classifier at {cardPath}: training one (once).");
        var (classifier, card) = ClassifierTrainer.Train(data, new ClassifierConfig(), new ClassifierTrainingOptions { Device = s.Device }, log, ct);
        ClassifierCheckpoint.Save(classifier, card, cardPath);
        log.WriteLine($"Classifier saved to {cardPath} (held-out accuracy {card.HeldOutAccuracy:P2}, {card.Training?.WallClockSeconds:F0} s).");
        return (classifier, card);
    }

    /// <summary>The real-digit floor (<see cref="DigitQuality.Floor"/>) as a report row.</summary>
    internal static QualityRow ReferenceRow(RealDigitFloor floor) =>
        new($"Real train digits (reference: mean of {floor.Draws} random class-balanced draws, range {floor.Min:F3}..{floor.Max:F3})",
            "–", null, floor.Mean, null);

    /// <summary>One forward pass at the timed batch size, so first-call allocations are not billed to the first row.</summary>
    static void Warmup(ScmUNet network, int batchSize, Device device)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var c = network.Config;
        network.forward(zeros(batchSize, c.ImageChannels, c.Resolution, c.Resolution, device: device), full(batchSize, 1.0, float32, device),
            c.NumClasses > 0 ? zeros(batchSize, c.NumClasses, device: device) : null, c.GuidanceEmbedding ? ones(batchSize, device: device) : null);
    }

    static string TrainingCost(ClassifierTrainingSummary? training) =>
        training is { } t ? $", {t.Epochs} epochs in {t.WallClockSeconds:F0} s wall / {t.CpuSeconds:F0} s CPU" : "";

    static string Relative(string path)
    {
        string full = Path.GetFullPath(path);
        string relative = Path.GetRelativePath(RepoPaths.Root, full);
        return relative.StartsWith("..", StringComparison.Ordinal) ? full : relative;
    }
}
