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
        File.WriteAllText(cardPath + ".tmp", JsonSerializer.Serialize(card, ModelCard.JsonOptions));
        File.Move(weightsPath + ".tmp", weightsPath, overwrite: true);
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
        string weightsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(cardPath))!, card.Weights);
        if (!File.Exists(weightsPath)) throw new CheckpointException($"Weights not found: {weightsPath} (named by {cardPath}).");

        var network = new ScmUNet(card.Network);
        var header = SafetensorsHeader.Read(weightsPath);
        CheckAgainstNetwork(weightsPath, header, network);

        Dictionary<string, Tensor> loaded;
        try { loaded = Safetensors.LoadStateDict(weightsPath); }
        catch (Exception e) { throw new CheckpointException($"{weightsPath}: could not read tensors: {e.Message}", e); }
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, target) in network.state_dict())
                target.copy_(loaded[name]);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
        network.to(device);
        network.eval();
        return (network, card);
    }

    static void CheckAgainstNetwork(string weightsPath, SafetensorsHeader header, ScmUNet network)
    {
        var expected = network.state_dict();
        var problems = new List<string>();
        var missing = expected.Keys.Where(k => !header.Tensors.ContainsKey(k)).ToList();
        var unexpected = header.Tensors.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing tensors: {Preview(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected tensors: {Preview(unexpected)}");
        foreach (var (name, tensor) in expected)
        {
            if (!header.Tensors.TryGetValue(name, out var entry)) continue;
            if (entry.DType != "F32") problems.Add($"'{name}' has dtype {entry.DType}, expected F32");
            if (!entry.Shape.SequenceEqual(tensor.shape))
                problems.Add($"'{name}' has shape [{string.Join(", ", entry.Shape)}], the architecture expects [{string.Join(", ", tensor.shape)}]");
            else if (entry.End - entry.Begin != tensor.numel() * 4 && entry.DType == "F32")
                problems.Add($"'{name}' holds {entry.End - entry.Begin} bytes for {tensor.numel()} floats");
        }
        if (problems.Count > 0)
            throw new CheckpointException(
                $"{weightsPath} does not match the architecture in its model card: {string.Join("; ", problems.Take(8))}" +
                (problems.Count > 8 ? $"; and {problems.Count - 8} more" : ""));
    }

    static string Preview(List<string> names) =>
        string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" (+{names.Count - 5} more)" : "");
}
