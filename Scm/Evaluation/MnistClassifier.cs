using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Scm.Evaluation;

/// <summary>
/// The small CNN that judges generated digits: class accuracy from its logits, and Fréchet distances in the
/// space of its penultimate layer (an MNIST stand-in for FID's Inception features, which know nothing of digits).
/// Input: [B, 1, 32, 32] in [-1, 1], like <see cref="Training.MnistDigits"/> and the samplers' output.
/// </summary>
public sealed class MnistClassifier : nn.Module<Tensor, Tensor>
{
    public ClassifierConfig Config { get; }

    readonly ModuleList<Sequential> stages;
    readonly Linear hidden;
    readonly Dropout dropout;
    readonly Linear head;

    public MnistClassifier(ClassifierConfig config) : base(nameof(MnistClassifier))
    {
        config.Validate();
        Config = config;
        stages = new ModuleList<Sequential>();
        int channels = config.ImageChannels;
        foreach (int outChannels in config.Channels)
        {
            // No conv bias: BatchNorm's shift replaces it.
            stages.Add(nn.Sequential(nn.Conv2d(channels, outChannels, 3, padding: 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()));
            channels = outChannels;
        }
        hidden = nn.Linear(channels, config.FeatureChannels);
        dropout = nn.Dropout(config.Dropout);
        head = nn.Linear(config.FeatureChannels, config.NumClasses);
        RegisterComponents();
        InitializeNormalizations();
    }

    /// <summary>Set BatchNorm's affine parameters explicitly: TorchSharp 0.107 left GroupNorm's uninitialised, so we do not rely on it.</summary>
    void InitializeNormalizations()
    {
        using var noGrad = no_grad();
        foreach (var module in modules().OfType<BatchNorm2d>())
        {
            module.weight?.fill_(1);
            module.bias?.zero_();
        }
    }

    /// <summary>Penultimate-layer features [B, FeatureChannels] (after ReLU).</summary>
    public Tensor Features(Tensor images)
    {
        var h = images;
        for (int i = 0; i < stages.Count; i++)
        {
            h = stages[i].forward(h);
            if (i < stages.Count - 1) h = nn.functional.max_pool2d(h, 2);
        }
        return nn.functional.relu(hidden.forward(h.mean([2, 3])));
    }

    /// <summary>Class logits [B, NumClasses].</summary>
    public override Tensor forward(Tensor images) => head.forward(dropout.forward(Features(images)));

    /// <summary>Predicted classes [N] (int64, CPU) of CPU images [N, C, H, W], in batches, in inference mode.</summary>
    public Tensor Classify(Tensor images, int batchSize = 500) =>
        Batched(images, batchSize, x => forward(x).argmax(1));

    /// <summary>Features [N, FeatureChannels] as float64 on the CPU, in batches, in inference mode.</summary>
    public Tensor ExtractFeatures(Tensor images, int batchSize = 500) =>
        Batched(images, batchSize, x => Features(x).to(float64));

    Tensor Batched(Tensor images, int batchSize, Func<Tensor, Tensor> f)
    {
        if (images.dim() != 4 || images.shape[1] != Config.ImageChannels || images.shape[2] != Config.Resolution || images.shape[3] != Config.Resolution)
            throw new ArgumentException($"Expected images [N, {Config.ImageChannels}, {Config.Resolution}, {Config.Resolution}], got [{string.Join(", ", images.shape)}].", nameof(images));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (training) throw new InvalidOperationException("Call eval() before classifying: BatchNorm must use its running statistics.");
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var device = parameters().First().device;
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
        {
            long count = Math.Min(batchSize, images.shape[0] - start);
            parts.Add(f(images.narrow(0, start, count).to(device)).cpu());
        }
        return cat(parts).MoveToOuterDisposeScope();
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
