namespace Scm.Sampling;

/// <summary>
/// Per-frame sampling specs for a video that morphs between keyframe classes. Keyframe k sits at frame
/// k * (frames - 1) / (keyframes - 1). Between two keyframes the noise is the spherical interpolation of the two
/// keyframes' noise streams (a smooth latent walk) and the class label is the linear blend of their one-hot
/// vectors (digit 3 morphing into 7). A single keyframe class still walks between two noise keyframes.
/// </summary>
public static class VideoPlan
{
    public static SampleSpec Frame(ulong seed, IReadOnlyList<int> keyframeClasses, int frames, long frame, int numClasses, double guidance = 1.0)
    {
        if (keyframeClasses.Count == 0) throw new ArgumentException("A video needs at least one keyframe class.", nameof(keyframeClasses));
        if (frames < 1) throw new ArgumentOutOfRangeException(nameof(frames), "frames must be >= 1.");
        if (frame < 0 || frame >= frames) throw new ArgumentOutOfRangeException(nameof(frame), $"frame must be in [0, {frames - 1}].");
        foreach (int c in keyframeClasses)
            if (c < 0 || c >= numClasses)
                throw new ArgumentOutOfRangeException(nameof(keyframeClasses), c, $"keyframe classes must be in [0, {numClasses - 1}].");
        int noiseKeyframes = Math.Max(2, keyframeClasses.Count);
        double position = frames == 1 ? 0 : (double)frame * (noiseKeyframes - 1) / (frames - 1);
        int segment = Math.Min((int)Math.Floor(position), noiseKeyframes - 2);
        double alpha = position - segment;

        var label = new float[numClasses];
        if (keyframeClasses.Count == 1) label[keyframeClasses[0]] = 1;
        else
        {
            label[keyframeClasses[segment]] += (float)(1 - alpha);
            label[keyframeClasses[segment + 1]] += (float)alpha;
        }
        // Keyframe noise streams use negative frame indices so they never collide with image-set frames.
        return new SampleSpec(new NoiseKey(seed, -1 - segment), new NoiseKey(seed, -2 - segment), alpha, label, guidance);
    }
}
