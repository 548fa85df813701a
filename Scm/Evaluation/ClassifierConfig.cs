namespace Scm.Evaluation;

/// <summary>
/// Shape of the evaluation classifier: a stack of conv3x3-BatchNorm-ReLU stages (2x2 max-pool between them),
/// global average pooling, one hidden layer (the feature layer used for Fréchet distances) and a linear head.
/// </summary>
public sealed record ClassifierConfig
{
    public int Resolution { get; init; } = 32;
    public int ImageChannels { get; init; } = 1;
    /// <summary>Output channels of each conv stage; every stage but the last halves the resolution after it.</summary>
    public int[] Channels { get; init; } = [32, 64, 128, 128];
    /// <summary>Width of the penultimate layer: the feature space of the Fréchet distance.</summary>
    public int FeatureChannels { get; init; } = 128;
    public int NumClasses { get; init; } = 10;
    public double Dropout { get; init; } = 0.2;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field out of range.</summary>
    public void Validate()
    {
        Require(Resolution is >= 4 and <= 1024, nameof(Resolution), "must be in [4, 1024]");
        Require(ImageChannels is >= 1 and <= 4, nameof(ImageChannels), "must be in [1, 4]");
        Require(Channels.Length >= 1 && Channels.All(c => c >= 1), nameof(Channels), "needs at least one stage, each >= 1 channel");
        Require(Resolution % (1 << (Channels.Length - 1)) == 0, nameof(Resolution), $"must be divisible by 2^(stages-1) = {1 << (Channels.Length - 1)}");
        Require(FeatureChannels >= 1, nameof(FeatureChannels), "must be >= 1");
        Require(NumClasses >= 2, nameof(NumClasses), "must be >= 2");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), "must be in [0, 1)");
    }

    static void Require(bool ok, string field, string rule)
    {
        if (!ok) throw new ArgumentException($"Classifier config field '{field}' {rule}.", field);
    }
}
