namespace Scm.Network;

/// <summary>Floating-point operations of one network evaluation F(x, t) for one sample, by kind.</summary>
/// <param name="Convolutions">Every convolution of the U-Net (3x3, strided, 1x1 skips, attention's 1x1 qkv/projection).</param>
/// <param name="Linears">The embedding MLP, class/guidance embeddings and the per-block AdaGN scale/shift layers.</param>
/// <param name="AttentionMatmuls">q^T k and v w^T of every self-attention layer.</param>
public sealed record FlopCount(long Convolutions, long Linears, long AttentionMatmuls)
{
    public long Total => Convolutions + Linears + AttentionMatmuls;
}

/// <summary>One convolution of the network as it runs on one sample (padding keeps the size unless strided).</summary>
/// <param name="InputResolution">Height = width of the convolution's input.</param>
public sealed record ConvolutionShape(int InChannels, int OutChannels, int Kernel, int Stride, int InputResolution)
{
    public int OutputResolution => InputResolution / Stride;

    /// <summary>2 Cin Cout k^2 H_out W_out: a multiply-add counts as 2.</summary>
    public long Flops => 2L * InChannels * OutChannels * Kernel * Kernel * OutputResolution * OutputResolution;
}

/// <summary>
/// Counts the FLOPs of <see cref="ScmUNet"/> analytically from its <see cref="NetworkConfig"/>, walking the same
/// architecture as the constructor. A multiply-add counts as 2 FLOPs; biases, normalisations, activations,
/// softmax and resampling copies are left out (they are a few percent at most and not matmul-bound). The
/// log-variance head is not part of F's forward pass and is not counted. Used to put measured images/s next to a
/// matmul ceiling: achieved FLOP/s = images/s x steps x Total.
/// </summary>
public static class FlopCounter
{
    public static FlopCount PerSample(NetworkConfig config)
    {
        long linears = 0, attention = 0;
        var convolutions = Walk(config, (emb, outChannels) => linears += 2 * Linear(emb, outChannels),
            (channels, pixels) => attention += 2 * (2 * pixels * pixels * channels));
        linears += EmbeddingLinears(config);
        return new FlopCount(convolutions.Sum(c => c.Flops), linears, attention);
    }

    /// <summary>
    /// Every convolution of one forward pass, in execution order: what a benchmark times in isolation to see how
    /// much of the network's time the FLOP-carrying work takes.
    /// </summary>
    public static IReadOnlyList<ConvolutionShape> Convolutions(NetworkConfig config) => Walk(config, (_, _) => { }, (_, _) => { });

    static long EmbeddingLinears(NetworkConfig config)
    {
        int c0 = config.ModelChannels, emb = config.EmbeddingChannels;
        long linears = Linear(c0, emb) + Linear(emb, emb);
        if (config.NumClasses > 0) linears += Linear(config.NumClasses, emb);
        if (config.GuidanceEmbedding) linears += Linear(c0, emb);
        return linears;
    }

    /// <summary>Walks the architecture like the constructor; reports AdaGN layers (embedding, channels) and attention (channels, pixels).</summary>
    static List<ConvolutionShape> Walk(NetworkConfig config, Action<int, int> adaptiveNorm, Action<int, long> selfAttention)
    {
        config.Validate();
        var convolutions = new List<ConvolutionShape>();
        int c0 = config.ModelChannels, emb = config.EmbeddingChannels;
        void Conv(int inChannels, int outChannels, int kernel, int inputResolution, int stride = 1) =>
            convolutions.Add(new ConvolutionShape(inChannels, outChannels, kernel, stride, inputResolution));

        void Stage(int inChannels, int outChannels, int resolution, bool withAttention)
        {
            Conv(inChannels, outChannels, 3, resolution);
            Conv(outChannels, outChannels, 3, resolution);
            if (inChannels != outChannels) Conv(inChannels, outChannels, 1, resolution);
            adaptiveNorm(emb, outChannels); // AdaGN scale and shift
            if (!withAttention) return;
            Conv(outChannels, 3 * outChannels, 1, resolution);
            Conv(outChannels, outChannels, 1, resolution);
            // Per head: [hw, d] x [d, hw] and [d, hw] x [hw, hw]; summed over heads d becomes the channel count.
            selfAttention(outChannels, (long)resolution * resolution);
        }

        void StageWithExtras(int inChannels, int outChannels, int resolution, bool withAttention)
        {
            Stage(inChannels, outChannels, resolution, withAttention);
            for (int i = 0; i < config.ExtraBlocksPerStage; i++) Stage(outChannels, outChannels, resolution, withAttention: false);
        }

        int levels = config.ChannelMultipliers.Length, channels = c0, size = config.Resolution;
        Conv(config.ImageChannels, c0, 3, size);
        var skips = new Stack<int>();
        skips.Push(c0);
        for (int level = 0; level < levels; level++)
        {
            int outChannels = c0 * config.ChannelMultipliers[level];
            for (int i = 0; i < config.BlocksPerLevel; i++)
            {
                StageWithExtras(channels, outChannels, size, config.AttentionResolutions.Contains(size));
                channels = outChannels;
                skips.Push(channels);
            }
            if (level < levels - 1)
            {
                Conv(channels, channels, 3, size, stride: 2); // downsample
                size /= 2;
                skips.Push(channels);
            }
        }

        StageWithExtras(channels, channels, size, withAttention: true);
        StageWithExtras(channels, channels, size, withAttention: false);

        for (int level = levels - 1; level >= 0; level--)
        {
            int outChannels = c0 * config.ChannelMultipliers[level];
            for (int i = 0; i <= config.BlocksPerLevel; i++)
            {
                StageWithExtras(channels + skips.Pop(), outChannels, size, config.AttentionResolutions.Contains(size));
                channels = outChannels;
            }
            if (level > 0)
            {
                size *= 2;
                Conv(channels, channels, 3, size); // after nearest-neighbour upsampling
            }
        }
        Conv(channels, config.ImageChannels, 3, size);
        return convolutions;
    }

    static long Linear(int inFeatures, int outFeatures) => 2L * inFeatures * outFeatures;
}
