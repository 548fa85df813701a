using System.Text.Json;
using Scm.Network;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Scm.Checkpoints;

/// <summary>
/// A checkpoint is a model card (JSON) plus safetensors weights beside it. Loading checks everything and
/// fails with a <see cref="CheckpointException"/> that names the file and the problem.
/// </summary>
public static class Checkpoint
{
    /// <summary>Writes the weights and the card; <paramref name="cardPath"/> is the .json path.</summary>
    public static void Save(ScmUNet network, ModelCard card, string cardPath)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(cardPath))!;
        Directory.CreateDirectory(directory);
        string weightsPath = Path.Combine(directory, card.Weights);
        // Write to temporary names and rename, so a crash mid-save never leaves a half-written checkpoint.
        network.save_safetensors(weightsPath + ".tmp");
        File.Move(weightsPath + ".tmp", weightsPath, overwrite: true);
        SaveCard(card, cardPath);
    }

    /// <summary>Writes the card alone (the weights beside it untouched), through a temporary file and a rename.</summary>
    public static void SaveCard(ModelCard card, string cardPath)
    {
        File.WriteAllText(cardPath + ".tmp", JsonSerializer.Serialize(card, ModelCard.JsonOptions));
        File.Move(cardPath + ".tmp", cardPath, overwrite: true);
    }

    public static ModelCard ReadCard(string cardPath)
    {
        if (!File.Exists(cardPath)) throw new CheckpointException($"Model card not found: {cardPath}");
        ModelCard? card;
        try
        {
            card = JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(cardPath), ModelCard.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{cardPath}: not a valid model card (JSON syntax or a missing or null field): {e.Message}", e);
        }
        if (card is null) throw new CheckpointException($"{cardPath}: model card is empty.");
        // The weights live beside the card: a path could make a card read any file on the serving node.
        if (string.IsNullOrWhiteSpace(card.Weights) || Path.GetFileName(card.Weights) != card.Weights || card.Weights is "." or "..")
            throw new CheckpointException($"{cardPath}: weights must be a file name beside the card, got '{card.Weights}'.");
        if (card.Kind is not (ModelCard.ConsistencyKind or ModelCard.DiffusionKind))
            throw new CheckpointException($"{cardPath}: kind must be '{ModelCard.ConsistencyKind}' or '{ModelCard.DiffusionKind}', got '{card.Kind}'.");
        if (Math.Abs(card.SigmaData - TrigFlow.SigmaData) > 1e-9)
            throw new CheckpointException($"{cardPath}: sigma_data {card.SigmaData} is not supported (this build uses {TrigFlow.SigmaData}).");
        if (card.TMid is { } tMid && !(tMid > 0 && tMid < TrigFlow.TMax))
            throw new CheckpointException($"{cardPath}: t_mid must be in (0, {TrigFlow.TMax:F4}); got {tMid}.");
        try { card.Network.Validate(); }
        catch (ArgumentException e) { throw new CheckpointException($"{cardPath}: {e.Message}", e); }
        if (card.ClassNames.Length != 0 && card.ClassNames.Length != card.Network.NumClasses)
            throw new CheckpointException($"{cardPath}: {card.ClassNames.Length} class names for a network with {card.Network.NumClasses} classes.");
        return card;
    }

    /// <summary>Loads a checkpoint from its card (.json) path onto <paramref name="device"/>, in eval mode.</summary>
    public static (ScmUNet Network, ModelCard Card) Load(string cardPath, Device device)
    {
        var card = ReadCard(cardPath);
        var network = new ScmUNet(card.Network);
        WeightsLoader.LoadInto(network, cardPath, card.Weights, "the architecture in its model card");
        network.to(device);
        network.eval();
        return (network, card);
    }
}
