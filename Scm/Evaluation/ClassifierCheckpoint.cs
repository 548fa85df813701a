using System.Text.Json;
using Scm.Checkpoints;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>
/// Saves and loads the evaluation classifier (card JSON + safetensors). Loading checks the card, the weights'
/// names, dtypes and shapes before reading any tensor, and fails with a <see cref="CheckpointException"/> that
/// names the file and the problem.
/// </summary>
public static class ClassifierCheckpoint
{
    public const string CardFileName = "model.json";

    public static void Save(MnistClassifier classifier, ClassifierCard card, string cardPath)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(cardPath))!;
        Directory.CreateDirectory(directory);
        string weightsPath = Path.Combine(directory, card.Weights);
        // Temporary names then rename: an interrupted save never leaves a card pointing at half-written weights.
        classifier.save_safetensors(weightsPath + ".tmp");
        File.WriteAllText(cardPath + ".tmp", JsonSerializer.Serialize(card, ClassifierCard.JsonOptions) + "\n");
        File.Move(weightsPath + ".tmp", weightsPath, overwrite: true);
        File.Move(cardPath + ".tmp", cardPath, overwrite: true);
    }

    public static ClassifierCard ReadCard(string cardPath)
    {
        if (!File.Exists(cardPath)) throw new CheckpointException($"Classifier card not found: {cardPath}");
        ClassifierCard? card;
        try
        {
            card = JsonSerializer.Deserialize<ClassifierCard>(File.ReadAllText(cardPath), ClassifierCard.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{cardPath}: not a valid classifier card (JSON syntax or a missing or null field): {e.Message}", e);
        }
        if (card is null) throw new CheckpointException($"{cardPath}: classifier card is empty.");
        // Same rule as generator cards: the weights live beside the card, so a card cannot make us read any other file.
        if (string.IsNullOrWhiteSpace(card.Weights) || Path.GetFileName(card.Weights) != card.Weights || card.Weights is "." or "..")
            throw new CheckpointException($"{cardPath}: weights must be a file name beside the card, got '{card.Weights}'.");
        if (card.Kind != ClassifierCard.ClassifierKind)
            throw new CheckpointException($"{cardPath}: kind must be '{ClassifierCard.ClassifierKind}', got '{card.Kind}'.");
        try { card.Network.Validate(); }
        catch (ArgumentException e) { throw new CheckpointException($"{cardPath}: {e.Message}", e); }
        if (card.ClassNames.Length != 0 && card.ClassNames.Length != card.Network.NumClasses)
            throw new CheckpointException($"{cardPath}: {card.ClassNames.Length} class names for a classifier with {card.Network.NumClasses} classes.");
        return card;
    }

    /// <summary>Loads the classifier from its card path onto <paramref name="device"/>, in eval mode.</summary>
    public static (MnistClassifier Classifier, ClassifierCard Card) Load(string cardPath, Device device)
    {
        var card = ReadCard(cardPath);
        string weightsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(cardPath))!, card.Weights);
        if (!File.Exists(weightsPath)) throw new CheckpointException($"Weights not found: {weightsPath} (named by {cardPath}).");

        var classifier = new MnistClassifier(card.Network);
        CheckAgainstNetwork(weightsPath, SafetensorsHeader.Read(weightsPath), classifier);
        Dictionary<string, Tensor> loaded;
        try { loaded = Safetensors.LoadStateDict(weightsPath); }
        catch (Exception e) { throw new CheckpointException($"{weightsPath}: could not read tensors: {e.Message}", e); }
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, target) in classifier.state_dict())
                target.copy_(loaded[name]);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
        classifier.to(device);
        classifier.eval();
        return (classifier, card);
    }

    static void CheckAgainstNetwork(string weightsPath, SafetensorsHeader header, MnistClassifier classifier)
    {
        var expected = classifier.state_dict();
        var problems = new List<string>();
        var missing = expected.Keys.Where(k => !header.Tensors.ContainsKey(k)).ToList();
        var unexpected = header.Tensors.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing tensors: {string.Join(", ", missing.Take(5))}");
        if (unexpected.Count > 0) problems.Add($"unexpected tensors: {string.Join(", ", unexpected.Take(5))}");
        foreach (var (name, tensor) in expected)
        {
            if (!header.Tensors.TryGetValue(name, out var entry)) continue;
            var (dtype, bytes) = tensor.dtype switch
            {
                ScalarType.Float32 => ("F32", 4),
                ScalarType.Int64 => ("I64", 8),
                var other => throw new InvalidOperationException($"Unexpected parameter dtype {other} in the classifier."),
            };
            if (entry.DType != dtype) problems.Add($"'{name}' has dtype {entry.DType}, expected {dtype}");
            else if (!entry.Shape.SequenceEqual(tensor.shape))
                problems.Add($"'{name}' has shape [{string.Join(", ", entry.Shape)}], the architecture expects [{string.Join(", ", tensor.shape)}]");
            else if (entry.End - entry.Begin != tensor.numel() * bytes)
                problems.Add($"'{name}' holds {entry.End - entry.Begin} bytes for {tensor.numel()} values");
        }
        if (problems.Count > 0)
            throw new CheckpointException($"{weightsPath} does not match the classifier in its card: {string.Join("; ", problems.Take(8))}");
    }
}
