using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// The dtype a network's weights and activations run in. Float32 is the reference; the 16-bit ones halve the memory
/// traffic of every activation (what bounds this small network on a GPU) at a cost in precision that `scm-tools eval
/// --precision` measures. Sampling arithmetic outside the network (noise, the consistency function) stays float32.
/// </summary>
public enum NetworkPrecision { Float32, BFloat16, Float16 }

public static class NetworkPrecisions
{
    public static ScalarType ScalarType(this NetworkPrecision precision) => precision switch
    {
        NetworkPrecision.Float32 => float32,
        NetworkPrecision.BFloat16 => bfloat16,
        NetworkPrecision.Float16 => float16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown precision"),
    };
}
