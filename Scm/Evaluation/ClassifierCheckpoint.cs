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
        var classifier = new MnistClassifier(card.Network);
        WeightsLoader.LoadInto(classifier, cardPath, card.Weights, "the classifier in its card");
        classifier.to(device);
        classifier.eval();
        return (classifier, card);
    }
}
