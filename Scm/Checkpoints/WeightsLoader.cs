using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Scm.Checkpoints;

/// <summary>
/// Loads the safetensors weights named by a card into a module, after checking every tensor's name, dtype, shape
/// and byte range against the module; any mismatch is one <see cref="CheckpointException"/> listing the problems.
/// Shared by the generator checkpoints and the evaluation classifier.
/// </summary>
public static class WeightsLoader
{
    /// <param name="architecture">How the message names what the weights must match, e.g. "the architecture in its model card".</param>
    public static void LoadInto(nn.Module module, string cardPath, string weightsFileName, string architecture)
    {
        string weightsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(cardPath))!, weightsFileName);
        if (!File.Exists(weightsPath)) throw new CheckpointException($"Weights not found: {weightsPath} (named by {cardPath}).");
        Check(weightsPath, SafetensorsHeader.Read(weightsPath), module, architecture);

        Dictionary<string, Tensor> loaded;
        try { loaded = Safetensors.LoadStateDict(weightsPath); }
        catch (Exception e) { throw new CheckpointException($"{weightsPath}: could not read tensors: {e.Message}", e); }
        try
        {
            using var noGrad = no_grad();
            // Safetensors carries no checksum: bytes overwritten in the data section load silently. Non-finite
            // values are the corruption that can be seen (and would turn every frame into NaN), so they fail here.
            var corrupt = new List<string>();
            foreach (var (name, source) in loaded)
            {
                if (!source.is_floating_point()) continue;
                using var finite = isfinite(source);
                long bad = source.numel() - finite.sum().item<long>();
                if (bad > 0) corrupt.Add($"'{name}' has {bad} non-finite values");
            }
            if (corrupt.Count > 0)
                throw new CheckpointException($"{weightsPath}: corrupt tensor data: {string.Join("; ", corrupt.Take(8))}" +
                                              (corrupt.Count > 8 ? $"; and {corrupt.Count - 8} more" : ""));
            foreach (var (name, target) in module.state_dict())
                target.copy_(loaded[name]);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    static void Check(string weightsPath, SafetensorsHeader header, nn.Module module, string architecture)
    {
        var expected = module.state_dict();
        var problems = new List<string>();
        var missing = expected.Keys.Where(k => !header.Tensors.ContainsKey(k)).ToList();
        var unexpected = header.Tensors.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing tensors: {Preview(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected tensors: {Preview(unexpected)}");
        foreach (var (name, tensor) in expected)
        {
            if (!header.Tensors.TryGetValue(name, out var entry)) continue;
            var (dtype, bytes, unit) = tensor.dtype switch
            {
                ScalarType.Float32 => ("F32", 4, "floats"),
                ScalarType.Int64 => ("I64", 8, "integers"),
                var other => throw new InvalidOperationException($"Unsupported parameter dtype {other} in '{name}'."),
            };
            if (entry.DType != dtype) problems.Add($"'{name}' has dtype {entry.DType}, expected {dtype}");
            else if (!entry.Shape.SequenceEqual(tensor.shape))
                problems.Add($"'{name}' has shape [{string.Join(", ", entry.Shape)}], the architecture expects [{string.Join(", ", tensor.shape)}]");
            else if (entry.End - entry.Begin != tensor.numel() * bytes)
                problems.Add($"'{name}' holds {entry.End - entry.Begin} bytes for {tensor.numel()} {unit}");
        }
        if (problems.Count > 0)
            throw new CheckpointException(
                $"{weightsPath} does not match {architecture}: {string.Join("; ", problems.Take(8))}" +
                (problems.Count > 8 ? $"; and {problems.Count - 8} more" : ""));
    }

    static string Preview(List<string> names) =>
        string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" (+{names.Count - 5} more)" : "");
}
