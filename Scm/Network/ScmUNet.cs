using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Network;

/// <summary>
/// The network F of TrigFlow: F(x_t / sigma_data, c_noise(t), class, guidance). One class serves as the
/// diffusion teacher and as the consistency student (they differ only in how F is used; see TrigFlow).
/// A U-Net in the spirit of sCM's EDM2-based network: positional time embedding, class embedding from a
/// (soft) one-hot vector, optional guidance-scale embedding, adaptive double normalization in every block,
/// GroupNorm throughout, self-attention at low resolutions, and an optional log-variance head.
///
/// State-dict names (for loading PyTorch weights saved as safetensors) are the field names below, e.g.
/// "time_embedding.0.weight", "encoder.3.block.conv1.weight", "decoder.0.attention.qkv.bias", "output.2.weight".
/// </summary>
public sealed class ScmUNet : nn.Module<Tensor, Tensor, Tensor?, Tensor?, Tensor>
{
    public NetworkConfig Config { get; }

    readonly PositionalEmbedding time_features;
    readonly Sequential time_embedding;
    readonly Linear? class_embedding;
    readonly PositionalEmbedding? guidance_features;
    readonly Linear? guidance_embedding;
    readonly Conv2d input;
    readonly ModuleList<nn.Module<Tensor, Tensor, Tensor>> encoder;
    readonly ModuleList<nn.Module<Tensor, Tensor, Tensor>> middle;
    readonly ModuleList<nn.Module<Tensor, Tensor, Tensor>> decoder;
    readonly bool[] decoderTakesSkip;
    readonly Sequential output;
    readonly Linear? logvar;

    public ScmUNet(NetworkConfig config) : base(nameof(ScmUNet))
    {
        config.Validate();
        Config = config;
        int c0 = config.ModelChannels, emb = config.EmbeddingChannels;

        time_features = new PositionalEmbedding(c0, config.TimeEmbeddingMaxFrequency);
        time_embedding = nn.Sequential(nn.Linear(c0, emb), nn.SiLU(), nn.Linear(emb, emb));
        if (config.NumClasses > 0) class_embedding = nn.Linear(config.NumClasses, emb, hasBias: false);
        if (config.GuidanceEmbedding)
        {
            guidance_features = new PositionalEmbedding(c0, 10);
            guidance_embedding = nn.Linear(c0, emb);
        }

        input = nn.Conv2d(config.ImageChannels, c0, 3, padding: 1);
        encoder = new ModuleList<nn.Module<Tensor, Tensor, Tensor>>();
        var skipChannels = new Stack<int>();
        skipChannels.Push(c0);
        int channels = c0, resolution = config.Resolution;
        int levels = config.ChannelMultipliers.Length;
        for (int level = 0; level < levels; level++)
        {
            int outChannels = c0 * config.ChannelMultipliers[level];
            for (int i = 0; i < config.BlocksPerLevel; i++)
            {
                encoder.Add(new UNetStage(channels, outChannels, config, config.AttentionResolutions.Contains(resolution)));
                channels = outChannels;
                skipChannels.Push(channels);
            }
            if (level < levels - 1)
            {
                encoder.Add(new Downsample(channels));
                skipChannels.Push(channels);
                resolution /= 2;
            }
        }

        middle = new ModuleList<nn.Module<Tensor, Tensor, Tensor>>(
            new UNetStage(channels, channels, config, withAttention: true),
            new UNetStage(channels, channels, config, withAttention: false));

        decoder = new ModuleList<nn.Module<Tensor, Tensor, Tensor>>();
        var takesSkip = new List<bool>();
        for (int level = levels - 1; level >= 0; level--)
        {
            int outChannels = c0 * config.ChannelMultipliers[level];
            for (int i = 0; i <= config.BlocksPerLevel; i++)
            {
                decoder.Add(new UNetStage(channels + skipChannels.Pop(), outChannels, config, config.AttentionResolutions.Contains(resolution)));
                takesSkip.Add(true);
                channels = outChannels;
            }
            if (level > 0)
            {
                decoder.Add(new Upsample(channels));
                takesSkip.Add(false);
                resolution *= 2;
            }
        }
        decoderTakesSkip = takesSkip.ToArray();

        output = nn.Sequential(nn.GroupNorm(config.GroupNormGroups, channels), nn.SiLU(),
            nn.Conv2d(channels, config.ImageChannels, 3, padding: 1));
        if (config.LogVarianceHead) logvar = nn.Linear(c0, 1);
        RegisterComponents();
        InitializeNormalizations();
    }

    /// <summary>TorchSharp 0.107 leaves GroupNorm's affine parameters uninitialised (we saw NaN biases): set them.</summary>
    void InitializeNormalizations()
    {
        using var noGrad = no_grad();
        foreach (var module in modules().OfType<GroupNorm>())
        {
            module.weight?.fill_(1);
            module.bias?.zero_();
        }
    }

    /// <param name="xScaled">x_t / sigma_data, [B, C, H, W].</param>
    /// <param name="cNoise">c_noise(t) = t, [B].</param>
    /// <param name="labels">[B, NumClasses] soft one-hot; all zeros = unconditional. Null = unconditional.</param>
    /// <param name="guidance">[B] guidance scale; required when the config has a guidance embedding.</param>
    public override Tensor forward(Tensor xScaled, Tensor cNoise, Tensor? labels, Tensor? guidance)
    {
        // A network converted to another precision (RunAt) takes and returns the caller's dtype: the cast happens here.
        var dtype = Dtype;
        if (xScaled.dtype != dtype) return forward(xScaled.to(dtype), cNoise, labels, guidance).to(xScaled.dtype);

        var emb = time_embedding.forward(time_features.forward(cNoise).to(dtype));
        if (class_embedding is not null && labels is not null)
            emb = emb + class_embedding.forward(labels.to(xScaled.dtype));
        if (guidance_embedding is not null)
        {
            if (guidance is null) throw new ArgumentException("This network was trained with a guidance embedding: pass a guidance scale.", nameof(guidance));
            emb = emb + guidance_embedding.forward(guidance_features!.forward(guidance).to(dtype));
        }
        emb = nn.functional.silu(emb);

        var h = input.forward(xScaled);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var stage in encoder)
        {
            h = stage.forward(h, emb);
            skips.Push(h);
        }
        foreach (var stage in middle) h = stage.forward(h, emb);
        for (int i = 0; i < decoder.Count; i++)
        {
            if (decoderTakesSkip[i]) h = cat([h, skips.Pop()], dim: 1);
            h = decoder[i].forward(h, emb);
        }
        return output.forward(h);
    }

    /// <summary>Log-variance u(t) of sCM's adaptive weighting, [B]. Zero when the model has no such head.</summary>
    public Tensor LogVariance(Tensor cNoise)
    {
        if (logvar is null) return zeros_like(cNoise);
        return logvar.forward(time_features.forward(cNoise).to(Dtype)).squeeze(1);
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>The dtype of the weights (and of every activation inside the network).</summary>
    public ScalarType Dtype => input.weight!.dtype;

    /// <summary>
    /// Converts the weights to <paramref name="precision"/> (in place; returns this). Inputs of another dtype are then cast
    /// in and the output cast back, so samplers keep their float32 arithmetic around the network.
    /// </summary>
    public ScmUNet RunAt(NetworkPrecision precision)
    {
        this.to(precision.ScalarType());
        return this;
    }
}
