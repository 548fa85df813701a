namespace Scm.Sampling;

/// <summary>Identifies one noise stream: every step's noise for a frame is drawn from (Seed, Frame, step).</summary>
public readonly record struct NoiseKey(ulong Seed, long Frame);

/// <summary>
/// What to sample for one output frame. The initial and per-step noises are the spherical interpolation
/// between the streams <see cref="From"/> and <see cref="To"/> at <see cref="Blend"/> (0 = From only), which
/// is how a video walks smoothly through latent space between keyframes. <see cref="Label"/> is a (soft)
/// one-hot class vector; interpolating it morphs one class into another. Empty = unconditional.
/// </summary>
public sealed record SampleSpec(NoiseKey From, NoiseKey To, double Blend, float[] Label, double Guidance = 1.0)
{
    public static SampleSpec Image(ulong seed, long frame, int classIndex, int numClasses, double guidance = 1.0) =>
        new(new NoiseKey(seed, frame), new NoiseKey(seed, frame), 0, OneHot(classIndex, numClasses), guidance);

    public static float[] OneHot(int classIndex, int numClasses)
    {
        var label = new float[numClasses];
        if (classIndex >= 0) label[classIndex] = 1;
        return label;
    }
}
