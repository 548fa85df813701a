using System.Text.Json;
using System.Text.Json.Nodes;
using Scm.Checkpoints;
using Scm.Network;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

public class PyTorchStateDictTests : IDisposable
{
    readonly TempDirectory directory = new();

    public void Dispose()
    {
        directory.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// State-dict names written the way PyTorch's safetensors writer does (sorted names, a "__metadata__" entry,
    /// header padded to 8 bytes), spelled out from the naming rule in docs/MODEL-FORMAT.md rather than taken
    /// from TorchSharp, load into the right parameters.
    /// </summary>
    [Fact]
    public void A_file_written_with_pytorch_state_dict_names_loads_into_the_right_parameters()
    {
        var config = Minimal;
        var names = PyTorchNames(config);
        var network = new ScmUNet(config);
        Assert.Equal(names.Order(), network.state_dict().Keys.Order());

        // Every tensor gets distinct values, so a swapped name would show.
        var shapes = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var values = new Dictionary<string, float[]>();
        int counter = 0;
        foreach (var name in names)
            values[name] = Enumerable.Range(0, (int)shapes[name].Aggregate(1L, (a, b) => a * b)).Select(_ => (counter++ % 1000) / 1000f - 0.5f).ToArray();
        WritePyTorchStyle(directory.File("model.safetensors"), names.ToDictionary(n => n, n => (shapes[n], values[n])));
        string cardPath = directory.File("model.json");
        File.WriteAllText(cardPath, JsonSerializer.Serialize(CheckpointTests.Card(config), ModelCard.JsonOptions));

        var (loaded, _) = Checkpoint.Load(cardPath, CPU);
        foreach (var (name, tensor) in loaded.state_dict())
            Assert.Equal(values[name], Floats(tensor));
        using var output = CheckpointTests.Evaluate(loaded);
        Assert.All(Floats(output), v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>The naming rule for a one-level network: module field paths, list indices, PyTorch parameter names.</summary>
    static List<string> PyTorchNames(NetworkConfig config)
    {
        Assert.Single(config.ChannelMultipliers);
        var names = new List<string>();
        void Add(string prefix, params string[] children) => names.AddRange(children.Select(c => $"{prefix}.{c}"));
        void Block(string prefix, bool skip)
        {
            Add(prefix, "norm1.weight", "norm1.bias", "conv1.weight", "conv1.bias", "norm2.scale.weight", "norm2.scale.bias",
                "norm2.shift.weight", "norm2.shift.bias", "conv2.weight", "conv2.bias");
            if (skip) Add(prefix, "skip.weight", "skip.bias");
        }
        Add("time_embedding", "0.weight", "0.bias", "2.weight", "2.bias"); // Linear, SiLU, Linear
        Add("input", "weight", "bias");
        Block("encoder.0.block", skip: false);
        Block("middle.0.block", skip: false);
        Add("middle.0.attention", "norm.weight", "norm.bias", "qkv.weight", "qkv.bias", "project.weight", "project.bias");
        Block("middle.1.block", skip: false);
        Block("decoder.0.block", skip: true); // concatenated skip doubles the input channels
        Block("decoder.1.block", skip: true);
        Add("output", "0.weight", "0.bias", "2.weight", "2.bias"); // GroupNorm, SiLU, Conv2d
        return names;
    }

    static void WritePyTorchStyle(string path, Dictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        var data = new MemoryStream();
        foreach (var (name, (shape, values)) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            long begin = data.Length;
            foreach (var v in values) data.Write(BitConverter.GetBytes(v));
            header[name] = new JsonObject
            {
                ["dtype"] = "F32", ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()), ["data_offsets"] = new JsonArray(begin, data.Length),
            };
        }
        CheckpointTests.WriteRaw(path, header.ToJsonString(), data.ToArray());
    }
}
