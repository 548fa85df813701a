using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// sCM's "adaptive double normalization" (Sec. 4.1): y = GroupNorm(x) * pnorm(s(emb)) + pnorm(b(emb)),
/// where pnorm rescales the per-channel scale and shift vectors to unit RMS. Keeping the time-conditioned
/// modulation at a fixed magnitude is what stabilised continuous-time training in the paper.
/// </summary>
public sealed class AdaptiveGroupNorm : nn.Module<Tensor, Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Linear scale;
    readonly Linear shift;

    public AdaptiveGroupNorm(int channels, int embeddingChannels, int groups) : base(nameof(AdaptiveGroupNorm))
    {
        norm = nn.GroupNorm(groups, channels, affine: false);
        scale = nn.Linear(embeddingChannels, channels);
        shift = nn.Linear(embeddingChannels, channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        var s = PixelNorm(scale.forward(emb)).unsqueeze(-1).unsqueeze(-1);
        var b = PixelNorm(shift.forward(emb)).unsqueeze(-1).unsqueeze(-1);
        return norm.forward(x) * s + b;
    }

    static Tensor PixelNorm(Tensor v) => v * rsqrt(v.square().mean([1], keepdim: true) + 1e-4);
}
