namespace Scm.Network;

/// <summary>Floating-point operations of one network evaluation F(x, t) for one sample, by kind.</summary>
/// <param name="Convolutions">Every convolution of the U-Net (3x3, strided, 1x1 skips, attention's 1x1 qkv/projection).</param>
/// <param name="Linears">The embedding MLP, class/guidance embeddings and the per-block AdaGN scale/shift layers.</param>
/// <param name="AttentionMatmuls">q^T k and v w^T of every self-attention layer.</param>
public sealed record FlopCount(long Convolutions, long Linears, long AttentionMatmuls)
{
    public long Total => Convolutions + Linears + AttentionMatmuls;
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
        config.Validate();
        long convolutions = 0, linears = 0, attention = 0;
        int c0 = config.ModelChannels, emb = config.EmbeddingChannels;

        linears += Linear(c0, emb) + Linear(emb, emb);
        if (config.NumClasses > 0) linears += Linear(config.NumClasses, emb);
        if (config.GuidanceEmbedding) linears += Linear(c0, emb);

        void Stage(int inChannels, int outChannels, int resolution, bool withAttention)
        {
            long pixels = (long)resolution * resolution;
            convolutions += Conv(inChannels, outChannels, 3, pixels) + Conv(outChannels, outChannels, 3, pixels);
            if (inChannels != outChannels) convolutions += Conv(inChannels, outChannels, 1, pixels);
            linears += 2 * Linear(emb, outChannels); // AdaGN scale and shift
            if (!withAttention) return;
            convolutions += Conv(outChannels, 3 * outChannels, 1, pixels) + Conv(outChannels, outChannels, 1, pixels);
            // Per head: [hw, d] x [d, hw] and [d, hw] x [hw, hw]; summed over heads d becomes the channel count.
            attention += 2 * (2 * pixels * pixels * outChannels);
        }

        int levels = config.ChannelMultipliers.Length, channels = c0, size = config.Resolution;
        convolutions += Conv(config.ImageChannels, c0, 3, (long)size * size);
        var skips = new Stack<int>();
        skips.Push(c0);
        for (int level = 0; level < levels; level++)
        {
            int outChannels = c0 * config.ChannelMultipliers[level];
            for (int i = 0; i < config.BlocksPerLevel; i++)
            {
                Stage(channels, outChannels, size, config.AttentionResolutions.Contains(size));
                channels = outChannels;
                skips.Push(channels);
            }
            if (level < levels - 1)
            {
                size /= 2;
                convolutions += Conv(channels, channels, 3, (long)size * size); // stride-2 downsample, counted at its output
                skips.Push(channels);
            }
        }

        Stage(channels, channels, size, withAttention: true);
        Stage(channels, channels, size, withAttention: false);

        for (int level = levels - 1; level >= 0; level--)
        {
            int outChannels = c0 * config.ChannelMultipliers[level];
            for (int i = 0; i <= config.BlocksPerLevel; i++)
            {
                Stage(channels + skips.Pop(), outChannels, size, config.AttentionResolutions.Contains(size));
                channels = outChannels;
            }
            if (level > 0)
            {
                size *= 2;
                convolutions += Conv(channels, channels, 3, (long)size * size); // after nearest-neighbour upsampling
            }
        }
        convolutions += Conv(channels, config.ImageChannels, 3, (long)size * size);
        return new FlopCount(convolutions, linears, attention);
    }

    static long Conv(int inChannels, int outChannels, int kernel, long outputPixels) =>
        2L * inChannels * outChannels * kernel * kernel * outputPixels;

    static long Linear(int inFeatures, int outFeatures) => 2L * inFeatures * outFeatures;
}
