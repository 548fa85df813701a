using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// Multi-head self-attention over pixels, written with explicit matmul/softmax (not a fused kernel) so
/// that it is twice differentiable: the sCD tangent needs a JVP, which we get by double backward.
/// </summary>
public sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Conv2d qkv;
    readonly Conv2d project;
    readonly int heads;

    public SelfAttention(int channels, int headChannels, int groups) : base(nameof(SelfAttention))
    {
        heads = Math.Max(1, channels / headChannels);
        norm = nn.GroupNorm(groups, channels);
        qkv = nn.Conv2d(channels, channels * 3, 1);
        project = nn.Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long d = c / heads;
        var qkvFlat = qkv.forward(norm.forward(x)).reshape(b, 3, heads, d, h * w);
        var q = qkvFlat[.., 0];
        var k = qkvFlat[.., 1];
        var v = qkvFlat[.., 2];
        var weights = softmax(q.transpose(-1, -2).matmul(k) / Math.Sqrt(d), dim: -1); // [b, heads, hw, hw]
        var attended = v.matmul(weights.transpose(-1, -2));                             // [b, heads, d, hw]
        return x + project.forward(attended.reshape(b, c, h, w));
    }
}
