using Grains.Interfaces;
using Scm.Sampling;

namespace Grains.Jobs;

/// <summary>Turns a job spec and a frame index into the sampler's per-frame spec (noise streams, label).</summary>
public static class FramePlanner
{
    public static SampleSpec Frame(JobSpec spec, int frame, int numClasses) => spec.Kind switch
    {
        JobKind.ImageSet => SampleSpec.Image(spec.Seed, frame, spec.Classes[frame % spec.Classes.Length], numClasses, spec.Guidance),
        _ => VideoPlan.Frame(spec.Seed, spec.Classes, spec.Frames, frame, numClasses, spec.Guidance),
    };

    /// <summary>The job's times, or the default spacing from the model card's t_mid (<paramref name="tMid"/>; null: sCM's 1.1).</summary>
    public static SamplingSchedule Schedule(JobSpec spec, double? tMid = null) => SamplingSchedule.ForSteps(spec.Steps, spec.IntermediateTimes, tMid);

    /// <summary>Splits frames 0..frames-1 into contiguous items of at most itemFrames.</summary>
    public static IEnumerable<(int First, int Count)> Shard(int frames, int itemFrames)
    {
        for (int first = 0; first < frames; first += itemFrames)
            yield return (first, Math.Min(itemFrames, frames - first));
    }
}
