using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Grains.Interfaces;
using Grains.Options;
using Microsoft.Extensions.Options;
using Scm.Images;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;

namespace Grains.Workers;

/// <summary>
/// SIMULATION ONLY (see <see cref="SimulatedDeviceOptions"/>): what a worker on a "sim:N" device does instead of
/// running the model. A batch costs the configured delay and every frame is the same placeholder PNG, which says
/// in a tEXt chunk that it is not model output. Lets one machine host hundreds of "devices" to measure how the
/// scheduler and coordinators scale.
/// </summary>
public sealed class SimulatedDevices(IOptions<DeviceOptions> options) : IDeviceRunner
{
    public const string ModelLabel = "simulated (no model)";
    const string Note = "SIMULATED device placeholder (Devices:Simulated), not model output";

    readonly SimulatedDeviceOptions simulated = options.Value.Simulated;
    readonly ConcurrentDictionary<int, byte[]> placeholders = new();
    readonly Lazy<Tensor> digitLike = new(DigitLike);

    public static IReadOnlyList<string> Names(int count) => Enumerable.Range(0, count).Select(i => $"{DeviceKinds.SimulatedPrefix}{i}").ToArray();

    /// <summary>
    /// Waits the configured cost of the batch, then hands on either image tensors for the real encode/store path
    /// (<see cref="SimulatedOutput.Images"/>) or pre-encoded placeholder PNGs.
    /// </summary>
    public async Task<SampledBatch> SampleAsync(string device, List<WorkItem> items, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        await Task.Delay(simulated.CostOf(items.Sum(i => i.FrameCount)), cancellationToken);
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return simulated.Output == SimulatedOutput.Images
            ? SampledBatch.Sampled(items, DigitLikeFrames(items), seconds, ModelLabel, started, setup: null)
            : SampledBatch.Encoded(items, PlaceholderFrames(items), seconds, ModelLabel, started);
    }

    /// <summary>A placeholder PNG per frame of every item.</summary>
    byte[][][] PlaceholderFrames(IReadOnlyList<WorkItem> items) =>
        items.Select(item => Enumerable.Repeat(Placeholder(item.Spec.OutputSize), item.FrameCount).ToArray()).ToArray();

    /// <summary>
    /// [frames, 1, 32, 32] images in [-1, 1]: every frame the same digit-like ring, about as compressible as a sampled
    /// MNIST digit.
    /// </summary>
    Tensor DigitLikeFrames(IReadOnlyList<WorkItem> items) =>
        digitLike.Value.expand(items.Sum(i => i.FrameCount), -1, -1, -1).contiguous();

    /// <summary>A soft ring of stroke width ~3 px on a dark background, 32x32 like the MNIST model's output.</summary>
    static Tensor DigitLike()
    {
        using var scope = torch.NewDisposeScope();
        var coordinates = torch.arange(32, dtype: torch.float32) - 15.5f;
        var radius = (coordinates.view(1, -1).square() + coordinates.view(-1, 1).square()).sqrt();
        var stroke = torch.exp(-(radius - 8).square() / 4.5f);
        return (stroke * 2 - 1).view(1, 1, 32, 32).MoveToOuterDisposeScope();
    }

    /// <summary>A diagonal-stripe image at the job's output size (cached per size; identical bytes every time).</summary>
    public byte[] Placeholder(int size) => placeholders.GetOrAdd(size, static s =>
    {
        const int n = 8;
        var pixels = new byte[n * n];
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                pixels[y * n + x] = (byte)(((x + y) / 2 % 2 == 0) ? 0x40 : 0xC0);
        return WithTextChunk(PngEncoder.Encode(pixels, n, n, 1, s, ResizeFilter.Nearest), "Comment", Note);
    });

    /// <summary>Inserts a PNG tEXt chunk before IEND (the last 12 bytes of a PNG written by SkiaSharp).</summary>
    static byte[] WithTextChunk(byte[] png, string keyword, string text)
    {
        var data = Encoding.Latin1.GetBytes(keyword + "\0" + text);
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes("tEXt").CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        // PNG chunks carry the CRC-32 (ISO-HDLC) of type + data, big-endian.
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.HashToUInt32(chunk.AsSpan(4, 4 + data.Length)));
        int iend = png.Length - 12;
        return [.. png.AsSpan(0, iend), .. chunk, .. png.AsSpan(iend)];
    }
}
