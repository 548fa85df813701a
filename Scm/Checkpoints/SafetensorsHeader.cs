using System.Text.Json;

namespace Scm.Checkpoints;

/// <summary>
/// Reads only the JSON header of a safetensors file (names, dtypes, shapes, byte ranges) so that a corrupt or
/// truncated file is reported precisely before any tensor is read. The tensors themselves are read by
/// TorchSharp.PyBridge.
/// </summary>
public sealed record SafetensorsHeader(IReadOnlyDictionary<string, SafetensorsHeader.Entry> Tensors)
{
    public sealed record Entry(string DType, long[] Shape, long Begin, long End);

    const long MaxHeaderBytes = 100_000_000;

    public static SafetensorsHeader Read(string path)
    {
        using var stream = File.OpenRead(path);
        long fileLength = stream.Length;
        if (fileLength < 8) throw new CheckpointException($"{path}: truncated safetensors file ({fileLength} bytes, no header).");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        long headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
            throw new CheckpointException($"{path}: corrupt or truncated safetensors file (header length {headerLength}, file length {fileLength}).");
        var header = new byte[headerLength];
        stream.ReadExactly(header);

        var tensors = new Dictionary<string, Entry>();
        long dataLength = fileLength - 8 - headerLength;
        try
        {
            using var json = JsonDocument.Parse(header);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                var dtype = property.Value.GetProperty("dtype").GetString() ?? "";
                var shape = property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                    throw new CheckpointException($"{path}: tensor '{property.Name}' has invalid data_offsets.");
                if (offsets[1] > dataLength)
                    throw new CheckpointException($"{path}: truncated: tensor '{property.Name}' ends at byte {offsets[1]} of a {dataLength}-byte data section.");
                tensors[property.Name] = new Entry(dtype, shape, offsets[0], offsets[1]);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new CheckpointException($"{path}: corrupt safetensors header: {e.Message}", e);
        }
        return new SafetensorsHeader(tensors);
    }
}
