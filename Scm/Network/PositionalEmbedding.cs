using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// Sinusoidal embedding of a scalar per sample: [cos(w_i x), sin(w_i x)] with frequencies w_i
/// spaced geometrically in [1, maxFrequency].
/// </summary>
public sealed class PositionalEmbedding : nn.Module<Tensor, Tensor>
{
    readonly Tensor frequencies;

    public PositionalEmbedding(int channels, double maxFrequency) : base(nameof(PositionalEmbedding))
    {
        int half = channels / 2;
        var exponents = linspace(0, 1, half, dtype: float32);
        frequencies = pow(maxFrequency, exponents);
        register_buffer("frequencies", frequencies, persistent: false);
    }

    public override Tensor forward(Tensor x)
    {
        var angles = x.to(float32).unsqueeze(1) * frequencies.unsqueeze(0);
        return cat([angles.cos(), angles.sin()], dim: 1);
    }
}
