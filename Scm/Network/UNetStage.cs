using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// One residual block, optionally followed by self-attention, then <see cref="NetworkConfig.ExtraBlocksPerStage"/>
/// residual blocks that start as the identity.
/// </summary>
public sealed class UNetStage : nn.Module<Tensor, Tensor, Tensor>
{
    readonly ResidualBlock block;
    readonly SelfAttention? attention;
    readonly ModuleList<ResidualBlock> extra;

    public UNetStage(int inChannels, int outChannels, NetworkConfig config, bool withAttention) : base(nameof(UNetStage))
    {
        block = new ResidualBlock(inChannels, outChannels, config.EmbeddingChannels, config.GroupNormGroups, config.Dropout);
        attention = withAttention ? new SelfAttention(outChannels, config.AttentionHeadChannels, config.GroupNormGroups) : null;
        extra = new ModuleList<ResidualBlock>();
        for (int i = 0; i < config.ExtraBlocksPerStage; i++)
        {
            var identity = new ResidualBlock(outChannels, outChannels, config.EmbeddingChannels, config.GroupNormGroups, config.Dropout);
            identity.ZeroResidual();
            extra.Add(identity);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        var h = block.forward(x, emb);
        h = attention?.forward(h) ?? h;
        foreach (var e in extra) h = e.forward(h, emb);
        return h;
    }
}

/// <summary>Halves the resolution with a strided 3x3 convolution.</summary>
public sealed class Downsample : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Conv2d conv;

    public Downsample(int channels) : base(nameof(Downsample))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor emb) => conv.forward(x);
}

/// <summary>Doubles the resolution: nearest-neighbour upsampling, then a 3x3 convolution.</summary>
public sealed class Upsample : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Conv2d conv;

    public Upsample(int channels) : base(nameof(Upsample))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor emb) =>
        conv.forward(nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest));
}
