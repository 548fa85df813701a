using Scm.Network;
using static Scm.Tests.TestSupport;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class FlopCounterTests
{
    /// <summary>
    /// Resolution 8, ModelChannels 4 (embedding 16), multipliers [1, 2], one block per level, attention at 4x4,
    /// 3 classes. Counted by hand layer by layer; a multiply-add is 2 FLOPs; conv = 2 Cin Cout k^2 H_out W_out.
    /// </summary>
    static NetworkConfig HandCounted => new()
    {
        Resolution = 8, ImageChannels = 1, ModelChannels = 4, ChannelMultipliers = [1, 2], BlocksPerLevel = 1,
        AttentionResolutions = [4], AttentionHeadChannels = 4, NumClasses = 3, GroupNormGroups = 2,
    };

    [Fact]
    public void Counts_match_a_hand_count_for_a_tiny_config()
    {
        long convolutions =
            2 * 1 * 4 * 9 * 64                                          // input conv 1 -> 4 at 8x8
            + 2 * 4 * 4 * 9 * 64 + 2 * 4 * 4 * 9 * 64                   // encoder.0: 4 -> 4 at 8x8 (conv1, conv2)
            + 2 * 4 * 4 * 9 * 16                                        // encoder.1: stride-2 conv, 4x4 output
            + 2 * 4 * 8 * 9 * 16 + 2 * 8 * 8 * 9 * 16 + 2 * 4 * 8 * 16  // encoder.2: 4 -> 8 at 4x4 (+ 1x1 skip)
            + 2 * 8 * 24 * 16 + 2 * 8 * 8 * 16                          //   its attention: qkv, projection
            + 2 * 8 * 8 * 9 * 16 * 2 + 2 * 8 * 24 * 16 + 2 * 8 * 8 * 16 // middle.0: 8 -> 8 with attention
            + 2 * 8 * 8 * 9 * 16 * 2                                    // middle.1
            + 2 * 16 * 8 * 9 * 16 + 2 * 8 * 8 * 9 * 16 + 2 * 16 * 8 * 16 // decoder.0: (8 + skip 8) -> 8
            + 2 * 8 * 24 * 16 + 2 * 8 * 8 * 16                          //   its attention
            + 2 * 12 * 8 * 9 * 16 + 2 * 8 * 8 * 9 * 16 + 2 * 12 * 8 * 16 // decoder.1: (8 + skip 4) -> 8
            + 2 * 8 * 24 * 16 + 2 * 8 * 8 * 16                          //   its attention
            + 2 * 8 * 8 * 9 * 64                                        // decoder.2: upsample conv at 8x8
            + 2 * 12 * 4 * 9 * 64 + 2 * 4 * 4 * 9 * 64 + 2 * 12 * 4 * 64 // decoder.3: (8 + skip 4) -> 4
            + 2 * 8 * 4 * 9 * 64 + 2 * 4 * 4 * 9 * 64 + 2 * 8 * 4 * 64  // decoder.4: (4 + skip 4) -> 4
            + 2 * 4 * 1 * 9 * 64;                                       // output conv 4 -> 1
        long linears =
            2 * 4 * 16 + 2 * 16 * 16                                    // time embedding MLP
            + 2 * 3 * 16                                                // class embedding
            + 2 * (2 * 16 * 4) * 3                                      // AdaGN scale + shift, 4-channel stages (enc.0, dec.3, dec.4)
            + 2 * (2 * 16 * 8) * 5;                                     // 8-channel stages (enc.2, mid.0, mid.1, dec.0, dec.1)
        long attention = 4 * 2 * (2 * 16 * 16 * 8);                     // 4 attention layers at 4x4, 8 channels: q^T k and v w^T

        var count = FlopCounter.PerSample(HandCounted);
        Assert.Equal(convolutions, count.Convolutions);
        Assert.Equal(linears, count.Linears);
        Assert.Equal(attention, count.AttentionMatmuls);
        Assert.Equal(convolutions + linears + attention, count.Total);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Linear_flops_are_twice_the_weights_of_the_networks_linear_layers(string name)
    {
        // The network's own modules cross-check the walk: every Linear runs once per sample (the log-variance head
        // is not part of F).
        var config = ConfigNamed(name);
        var network = NewNetwork(config);
        long weights = network.named_modules()
            .Where(m => m.module is TorchSharp.Modules.Linear && m.name != "logvar")
            .Sum(m => ((TorchSharp.Modules.Linear)m.module).weight!.numel());
        Assert.Equal(2 * weights, FlopCounter.PerSample(config).Linears);
    }

    public static TheoryData<string> Configs => ["tiny", "guided", "extra-blocks", "mnist"];

    static NetworkConfig ConfigNamed(string name) => name switch
    {
        "tiny" => Tiny(),
        "guided" => Tiny() with { GuidanceEmbedding = true },
        "extra-blocks" => Tiny() with { ExtraBlocksPerStage = 2 },
        _ => Mnist,
    };

    [Fact]
    public void Flops_scale_with_resolution_squared_for_convolutions()
    {
        // Same architecture at twice the resolution (attention moved along): conv FLOPs x4, attention x16.
        var small = FlopCounter.PerSample(HandCounted);
        var large = FlopCounter.PerSample(HandCounted with { Resolution = 16, AttentionResolutions = [8] });
        Assert.Equal(4 * small.Convolutions, large.Convolutions);
        Assert.Equal(16 * small.AttentionMatmuls, large.AttentionMatmuls);
        Assert.Equal(small.Linears, large.Linears);
    }

    [Fact]
    public void The_shipped_mnist_network_is_in_the_expected_range()
    {
        // ~1M parameters at 32x32: a few hundred MFLOPs per evaluation.
        long total = FlopCounter.PerSample(Mnist).Total;
        Assert.InRange(total, 100_000_000L, 2_000_000_000L);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void The_convolution_list_matches_the_networks_conv_layers(string name)
    {
        // Benchmarks time these shapes in isolation, so they must be the network's own layers (as a multiset).
        var config = ConfigNamed(name);
        var network = NewNetwork(config);
        var layers = network.named_modules().Select(m => m.module).OfType<TorchSharp.Modules.Conv2d>()
            .Select(c => $"{c.weight!.shape[1]}->{c.weight.shape[0]} k{c.weight.shape[2]} s{c.stride[0]}").Order().ToList();
        var listed = FlopCounter.Convolutions(config).Select(c => $"{c.InChannels}->{c.OutChannels} k{c.Kernel} s{c.Stride}").Order().ToList();
        Assert.Equal(layers, listed);
        Assert.Equal(FlopCounter.PerSample(config).Convolutions, FlopCounter.Convolutions(config).Sum(c => c.Flops));
    }
}
