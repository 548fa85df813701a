using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scm.Checkpoints;
using Scm.Network;
using TorchSharp.PyBridge;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

public class CheckpointTests : IDisposable
{
    readonly TempDirectory directory = new();

    public void Dispose()
    {
        directory.Dispose();
        GC.SuppressFinalize(this);
    }

    internal static ModelCard Card(NetworkConfig config, string kind = ModelCard.ConsistencyKind) => new()
    {
        Name = "test", Kind = kind, Network = config, ClassNames = Enumerable.Range(0, config.NumClasses).Select(i => $"c{i}").ToArray(),
        Training = new TrainingSummary { Dataset = "synthetic", Iterations = 3, Seed = 9 },
    };

    /// <summary>Saves a tiny network with its card and returns the card path.</summary>
    string SaveTiny(out ScmUNet network, NetworkConfig? config = null)
    {
        network = NewNetwork(config ?? Tiny(), seed: 21);
        string cardPath = directory.File("model.json");
        Checkpoint.Save(network, Card(network.Config), cardPath);
        return cardPath;
    }

    internal static Tensor Evaluate(ScmUNet network)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        manual_seed(3);
        int classes = network.Config.NumClasses;
        var x = randn(2, network.Config.ImageChannels, network.Config.Resolution, network.Config.Resolution);
        var labels = classes > 0 ? eye(classes)[tensor(new long[] { 0, classes - 1 })] : null;
        return TrigFlow.Consistency(network, x, tensor(new float[] { 0.5f, 1.4f }), labels, null).MoveToOuterDisposeScope();
    }

    /// <summary>Rewrites the weights beside the card with <paramref name="edit"/> applied to the saved tensors.</summary>
    string RewriteWeights(Action<Dictionary<string, Tensor>> edit)
    {
        string cardPath = SaveTiny(out _);
        string weights = directory.File("model.safetensors");
        var tensors = Safetensors.LoadStateDict(weights);
        edit(tensors);
        Safetensors.SaveStateDict(weights, tensors);
        return cardPath;
    }

    string EditCard(Action<JsonObject> edit)
    {
        string cardPath = SaveTiny(out _);
        var json = JsonNode.Parse(File.ReadAllText(cardPath))!.AsObject();
        edit(json);
        File.WriteAllText(cardPath, json.ToJsonString());
        return cardPath;
    }

    static CheckpointException LoadFails(string cardPath) =>
        Assert.Throws<CheckpointException>(() => Checkpoint.Load(cardPath, CPU));

    [Fact]
    public void Save_then_load_gives_the_same_outputs_bit_for_bit_and_the_same_card()
    {
        string cardPath = SaveTiny(out var network);
        var (loaded, card) = Checkpoint.Load(cardPath, CPU);
        using var expected = Evaluate(network);
        using var actual = Evaluate(loaded);
        Assert.Equal(Floats(expected), Floats(actual));
        Assert.False(loaded.training);
        Assert.Equal(JsonSerializer.Serialize(network.Config), JsonSerializer.Serialize(card.Network));
        Assert.Equal(["c0", "c1", "c2"], card.ClassNames);
        Assert.Equal(9UL, card.Training!.Seed);
        Assert.False(File.Exists(cardPath + ".tmp"));
        Assert.False(File.Exists(directory.File("model.safetensors.tmp")));
    }

    [Fact]
    public void The_card_uses_snake_case_names()
    {
        string cardPath = SaveTiny(out _);
        var json = JsonNode.Parse(File.ReadAllText(cardPath))!.AsObject();
        Assert.Equal("consistency", (string?)json["kind"]);
        Assert.Equal(0.5, (double)json["sigma_data"]!);
        Assert.Equal("model.safetensors", (string?)json["weights"]);
        Assert.Equal(8, (int)json["network"]!["model_channels"]!);
        Assert.Null(json["network"]!["embedding_channels"]); // derived, not stored
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var e = LoadFails(RewriteWeights(t => t.Remove("encoder.0.block.conv1.weight")));
        Assert.Contains("missing tensors: encoder.0.block.conv1.weight", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void An_unexpected_tensor_is_named()
    {
        var e = LoadFails(RewriteWeights(t => t["encoder.9.block.conv1.weight"] = zeros(2, 2)));
        Assert.Contains("unexpected tensors: encoder.9.block.conv1.weight", e.Message);
    }

    [Fact]
    public void A_shape_mismatch_names_the_tensor_and_both_shapes()
    {
        var e = LoadFails(RewriteWeights(t => t["input.weight"] = zeros(8, 1, 5, 5)));
        Assert.Contains("'input.weight' has shape [8, 1, 5, 5], the architecture expects [8, 1, 3, 3]", e.Message);
    }

    [Fact]
    public void A_half_precision_tensor_is_reported_as_a_dtype_mismatch()
    {
        var e = LoadFails(RewriteWeights(t => t["input.bias"] = t["input.bias"].to(float16)));
        Assert.Contains("'input.bias' has dtype F16, expected F32", e.Message);
    }

    [Fact]
    public void A_card_whose_config_disagrees_with_the_weights_is_reported()
    {
        string cardPath = EditCard(card => card["network"]!["model_channels"] = 16);
        var e = LoadFails(cardPath);
        Assert.Contains("does not match the architecture in its model card", e.Message);
        Assert.Contains("the architecture expects", e.Message);
    }

    [Fact]
    public void A_corrupt_header_is_reported()
    {
        string cardPath = SaveTiny(out _);
        string weights = directory.File("model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[8] = (byte)'#'; // first byte of the JSON header
        File.WriteAllBytes(weights, bytes);
        Assert.Contains("corrupt safetensors header", LoadFails(cardPath).Message);

        WriteRaw(weights, """{"input.weight": {"dtype": "F32", "shape": "3x3", "data_offsets": [0, 4]}}""", new byte[4]);
        Assert.Contains("corrupt safetensors header", LoadFails(cardPath).Message);

        WriteRaw(weights, """{"input.weight": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}""", new byte[4]);
        Assert.Contains("invalid data_offsets", LoadFails(cardPath).Message);

        var huge = BitConverter.GetBytes(long.MaxValue).Concat(new byte[16]).ToArray();
        File.WriteAllBytes(weights, huge);
        Assert.Contains("corrupt or truncated safetensors file", LoadFails(cardPath).Message);
    }

    [Fact]
    public void A_truncated_file_is_reported()
    {
        string cardPath = SaveTiny(out _);
        string weights = directory.File("model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..^100]);
        var e = LoadFails(cardPath);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("-byte data section", e.Message);

        File.WriteAllBytes(weights, bytes[..200]); // cut inside the header
        Assert.Contains("corrupt or truncated", LoadFails(cardPath).Message);

        File.WriteAllBytes(weights, bytes[..5]);
        Assert.Contains("no header", LoadFails(cardPath).Message);
    }

    [Fact]
    public void A_tensor_whose_byte_range_does_not_fit_its_shape_is_reported()
    {
        string cardPath = SaveTiny(out var network);
        var names = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var header = new JsonObject();
        long offset = 0;
        foreach (var (name, shape) in names)
        {
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * 4 + (name == "input.bias" ? 4 : 0);
            header[name] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()), ["data_offsets"] = new JsonArray(offset, offset + bytes) };
            offset += bytes;
        }
        WriteRaw(directory.File("model.safetensors"), header.ToJsonString(), new byte[offset]);
        Assert.Contains("'input.bias' holds 36 bytes for 8 floats", LoadFails(cardPath).Message);
    }

    [Fact]
    public void Missing_card_and_missing_weights_are_reported()
    {
        Assert.Contains("Model card not found", LoadFails(directory.File("nothing.json")).Message);
        string cardPath = SaveTiny(out _);
        File.Delete(directory.File("model.safetensors"));
        var e = LoadFails(cardPath);
        Assert.Contains("Weights not found", e.Message);
        Assert.Contains("model.json", e.Message);
    }

    [Fact]
    public void Invalid_json_and_incomplete_cards_are_reported()
    {
        string cardPath = SaveTiny(out _);
        File.WriteAllText(cardPath, "{ \"name\": \"x\", ");
        Assert.Contains("not a valid model card", LoadFails(cardPath).Message);

        File.WriteAllText(cardPath, "null");
        Assert.Contains("model card is empty", LoadFails(cardPath).Message);

        File.WriteAllText(cardPath, """{ "name": "x", "kind": "consistency" }""");
        Assert.Contains("network", LoadFails(cardPath).Message);
    }

    [Fact]
    public void Null_fields_in_a_card_are_reported_not_thrown_as_null_references()
    {
        foreach (var field in new[] { "network", "class_names", "weights", "kind", "name" })
        {
            string cardPath = EditCard(card => card[field] = null);
            var e = LoadFails(cardPath);
            Assert.Contains(field, e.Message);
        }
    }

    [Fact]
    public void A_wrong_kind_is_reported()
    {
        var e = LoadFails(EditCard(card => card["kind"] = "gan"));
        Assert.Contains("kind must be 'consistency' or 'diffusion', got 'gan'", e.Message);
    }

    [Fact]
    public void A_wrong_sigma_data_is_reported()
    {
        var e = LoadFails(EditCard(card => card["sigma_data"] = 1.0));
        Assert.Contains("sigma_data 1 is not supported", e.Message);
    }

    [Fact]
    public void An_invalid_network_config_names_the_field()
    {
        var e = LoadFails(EditCard(card => card["network"]!["group_norm_groups"] = 3));
        Assert.Contains("GroupNormGroups", e.Message);
        e = LoadFails(EditCard(card => card["class_names"] = new JsonArray("a", "b")));
        Assert.Contains("2 class names for a network with 3 classes", e.Message);
    }

    [Fact]
    public void A_weights_path_that_leaves_the_card_folder_is_rejected()
    {
        var e = LoadFails(EditCard(card => card["weights"] = "../elsewhere/model.safetensors"));
        Assert.Contains("weights", e.Message);
        Assert.Contains("file name", e.Message);
    }

    /// <summary>safetensors layout: u64 little-endian header length, JSON header padded with spaces to 8 bytes, data.</summary>
    internal static void WriteRaw(string path, string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        int padded = (header.Length + 7) / 8 * 8;
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)padded));
        file.Write(header);
        file.Write(Enumerable.Repeat((byte)' ', padded - header.Length).ToArray());
        file.Write(data);
    }
}
