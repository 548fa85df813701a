using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// Sinusoidal embedding of a scalar per sample: [cos(w_i x), sin(w_i x)] with frequencies w_i
/// spaced geometrically in [1, maxFrequency].
/// </summary>
public sealed class PositionalEmbedding : nn.Module<Tensor, Tensor>
{
    readonly int half;
    readonly double maxFrequency;

    public PositionalEmbedding(int channels, double maxFrequency) : base(nameof(PositionalEmbedding))
    {
        half = channels / 2;
        this.maxFrequency = maxFrequency;
    }

    public override Tensor forward(Tensor x)
    {
        // The frequencies are made here, on x's device and in x's dtype, instead of living in a buffer:
        // TorchSharp 0.107's Module.to() skips non-persistent buffers, so such a buffer stayed float32 on the
        // CPU after network.to(cuda) or network.to(float64) and the first Linear then failed on mixed tensors.
        // At least float32: in a 16-bit dtype an angle of 100 t would be off by up to ~0.5 rad.
        var dtype = x.dtype == float64 ? float64 : float32;
        using var exponents = linspace(0, 1, half, dtype: dtype, device: x.device);
        using var frequencies = pow(maxFrequency, exponents);
        var angles = x.to(dtype).unsqueeze(1) * frequencies.unsqueeze(0);
        return cat([angles.cos(), angles.sin()], dim: 1);
    }
}
