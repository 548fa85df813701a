using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>The [B, NumClasses] (soft) one-hot label batch of a list of specs; null for an unconditional model.</summary>
internal static class SampleLabels
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first spec whose label does not fit the model.</summary>
    public static void Validate(IReadOnlyList<SampleSpec> specs, int numClasses)
    {
        if (numClasses == 0) return;
        for (int i = 0; i < specs.Count; i++)
            if (specs[i].Label.Length != numClasses)
                throw new ArgumentException($"Label of sample {i} has {specs[i].Label.Length} entries; the model has {numClasses} classes.");
    }

    public static Tensor? Batch(IReadOnlyList<SampleSpec> specs, int numClasses, Device device)
    {
        if (numClasses == 0) return null;
        Validate(specs, numClasses);
        var flat = new float[specs.Count * numClasses];
        for (int i = 0; i < specs.Count; i++) specs[i].Label.CopyTo(flat, i * numClasses);
        return tensor(flat, [specs.Count, numClasses]).to(device);
    }
}
