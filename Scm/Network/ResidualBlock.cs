using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// Pre-activation residual block: GN -> SiLU -> conv -> AdaGN(emb) -> SiLU -> dropout -> conv, plus a
/// (1x1 if channels change) skip. GroupNorm, never BatchNorm: batch statistics would couple samples and
/// break both per-sample determinism and the JVP.
/// </summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor, Tensor>
{
    readonly GroupNorm norm1;
    readonly Conv2d conv1;
    readonly AdaptiveGroupNorm norm2;
    readonly Dropout dropout;
    readonly Conv2d conv2;
    readonly Conv2d? skip;

    public ResidualBlock(int inChannels, int outChannels, int embeddingChannels, int groups, double dropoutRate)
        : base(nameof(ResidualBlock))
    {
        norm1 = nn.GroupNorm(groups, inChannels);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = new AdaptiveGroupNorm(outChannels, embeddingChannels, groups);
        dropout = nn.Dropout(dropoutRate);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        skip = inChannels == outChannels ? null : nn.Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    /// <summary>Zeroes the last convolution: the block then returns its input (its skip is the identity).</summary>
    public void ZeroResidual()
    {
        if (skip is not null) throw new InvalidOperationException("A block that changes the channel count cannot start as the identity.");
        using var noGrad = no_grad();
        conv2.weight!.zero_();
        conv2.bias?.zero_();
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        var h = conv1.forward(nn.functional.silu(norm1.forward(x)));
        h = nn.functional.silu(norm2.forward(h, emb));
        h = conv2.forward(dropout.forward(h));
        return (skip?.forward(x) ?? x) + h;
    }
}
