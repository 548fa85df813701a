namespace Grains.Interfaces;

public enum JobKind
{
    /// <summary>Independent images: frame i has class Classes[i % Classes.Length] and its own noise.</summary>
    ImageSet,
    /// <summary>A smooth latent walk morphing through the keyframe classes in <see cref="JobSpec.Classes"/>.</summary>
    Video,
}

/// <summary>What a client asks the cluster to render. Validated by <see cref="JobSpecValidator"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record JobSpec
{
    [Id(0)] public JobKind Kind { get; init; } = JobKind.Video;
    /// <summary>Model id from the silo's model registry.</summary>
    [Id(1)] public string ModelId { get; init; } = "mnist-scm";
    /// <summary>Image set: classes cycled over frames. Video: keyframe classes in order.</summary>
    [Id(2)] public int[] Classes { get; init; } = [0];
    [Id(3)] public int Frames { get; init; } = 16;
    /// <summary>Frames per second of the MP4.</summary>
    [Id(4)] public int Fps { get; init; } = 12;
    [Id(5)] public ulong Seed { get; init; }
    /// <summary>Consistency steps: 1, 2 (default) or N.</summary>
    [Id(6)] public int Steps { get; init; } = 2;
    /// <summary>TrigFlow times between steps (Steps - 1 values, decreasing). Null = defaults (t_mid = 1.1 for 2 steps).</summary>
    [Id(7)] public double[]? IntermediateTimes { get; init; }
    /// <summary>Classifier-free guidance scale; only for models distilled with guidance. 1 = none.</summary>
    [Id(8)] public double Guidance { get; init; } = 1.0;
    /// <summary>Side of the square PNG frames, in pixels (the model's resolution is resized to this).</summary>
    [Id(9)] public int OutputSize { get; init; } = 128;
    /// <summary>"bilinear" (default) or "nearest".</summary>
    [Id(10)] public string Resize { get; init; } = "bilinear";
    /// <summary>Also assemble an MP4 from the frames (ffmpeg on the coordinator's silo).</summary>
    [Id(11)] public bool Mp4 { get; init; }
    /// <summary>Higher runs first within a tenant.</summary>
    [Id(12)] public int Priority { get; init; }
    /// <summary>Frames per work item; null = the cluster default for the model.</summary>
    [Id(13)] public int? ItemFrames { get; init; }
}
