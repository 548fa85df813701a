using System.Text.Json.Serialization;

namespace Scm.Network;

/// <summary>
/// Every size of the denoiser network F. The same code describes a ~1M-parameter MNIST model on a
/// 2-core CPU and a large ImageNet model on A100s; only this record changes.
/// </summary>
public sealed record NetworkConfig
{
    public int Resolution { get; init; } = 32;
    public int ImageChannels { get; init; } = 1;
    /// <summary>Channels of the first level; level l has ModelChannels * ChannelMultipliers[l].</summary>
    public int ModelChannels { get; init; } = 32;
    public int[] ChannelMultipliers { get; init; } = [1, 2, 2];
    public int BlocksPerLevel { get; init; } = 1;
    /// <summary>
    /// Residual blocks (same channels, no attention) appended to every stage, each with its last convolution starting
    /// at zero: a network grown from a trained one this way computes the same function at first. sCD uses it to give
    /// the student more capacity than its teacher while starting from the teacher's weights.
    /// </summary>
    public int ExtraBlocksPerStage { get; init; }
    /// <summary>Resolutions (in pixels) at which self-attention follows each residual block.</summary>
    public int[] AttentionResolutions { get; init; } = [8];
    public int AttentionHeadChannels { get; init; } = 32;
    /// <summary>0 = unconditional. Labels enter as (soft) one-hot vectors; the zero vector means "no class".</summary>
    public int NumClasses { get; init; } = 10;
    public double Dropout { get; init; }
    public int GroupNormGroups { get; init; } = 8;
    /// <summary>Adds an embedding of the classifier-free guidance scale (guidance distillation).</summary>
    public bool GuidanceEmbedding { get; init; }
    /// <summary>Adds the log-variance head u(t) used for sCM's adaptive loss weighting.</summary>
    public bool LogVarianceHead { get; init; } = true;
    /// <summary>
    /// Highest frequency of the positional time embedding of c_noise(t) = t. sCM (Sec. 4.1) found
    /// high-frequency time embeddings destabilise the JVP dF/dt; frequencies span [1, this].
    /// </summary>
    public double TimeEmbeddingMaxFrequency { get; init; } = 100;

    [JsonIgnore] public int EmbeddingChannels => ModelChannels * 4;

    /// <summary>The shipped MNIST architecture (models/mnist-teacher, models/mnist-scm): ~1.2M parameters, 32x32x1, 10 classes.</summary>
    public static NetworkConfig Mnist => new()
    {
        Resolution = 32, ImageChannels = 1, ModelChannels = 32, ChannelMultipliers = [1, 2, 2], BlocksPerLevel = 1,
        AttentionResolutions = [8], NumClasses = 10, Dropout = 0, GroupNormGroups = 8, LogVarianceHead = true,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field out of range.</summary>
    public void Validate()
    {
        Require(Resolution >= 4 && Resolution <= 4096, nameof(Resolution), "must be in [4, 4096]");
        Require(ImageChannels is >= 1 and <= 4, nameof(ImageChannels), "must be in [1, 4]");
        Require(ModelChannels >= 1, nameof(ModelChannels), "must be >= 1");
        Require(ChannelMultipliers.Length >= 1 && ChannelMultipliers.All(m => m >= 1), nameof(ChannelMultipliers), "needs at least one level, each >= 1");
        Require(Resolution % (1 << (ChannelMultipliers.Length - 1)) == 0, nameof(Resolution),
            $"must be divisible by 2^(levels-1) = {1 << (ChannelMultipliers.Length - 1)}");
        Require(BlocksPerLevel >= 1, nameof(BlocksPerLevel), "must be >= 1");
        Require(ExtraBlocksPerStage is >= 0 and <= 8, nameof(ExtraBlocksPerStage), "must be in [0, 8]");
        Require(NumClasses >= 0, nameof(NumClasses), "must be >= 0");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), "must be in [0, 1)");
        Require(GroupNormGroups >= 1 && ChannelMultipliers.All(m => ModelChannels * m % GroupNormGroups == 0),
            nameof(GroupNormGroups), "must divide every level's channel count");
        Require(AttentionHeadChannels >= 1, nameof(AttentionHeadChannels), "must be >= 1");
        Require(TimeEmbeddingMaxFrequency > 1, nameof(TimeEmbeddingMaxFrequency), "must be > 1");
    }

    static void Require(bool ok, string field, string rule)
    {
        if (!ok) throw new ArgumentException($"Network config field '{field}' {rule}.", field);
    }
}
