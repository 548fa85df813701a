using Grains.Interfaces;

namespace Grains.Jobs;

/// <summary>Written last, as "{prefix}manifest.json": its presence means every listed blob is stored.</summary>
public sealed record JobManifest
{
    public required string JobId { get; init; }
    public required string Tenant { get; init; }
    public required JobSpec Spec { get; init; }
    public required string ModelId { get; init; }
    public required ManifestFrame[] Frames { get; init; }
    public ManifestVideo? Video { get; init; }
    public string[] Warnings { get; init; } = [];
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime CompletedAt { get; init; }
    public double WallSeconds { get; init; }
    public double DeviceSeconds { get; init; }
    public int Retries { get; init; }
    /// <summary>Kinds of the devices that made the frames; "simulated" means placeholders, not model output.</summary>
    public string[] DeviceKinds { get; init; } = [];
}

/// <summary>One frame; <c>DeviceKind</c>, <c>ComputeChunk</c> and <c>Precision</c> say under what its bits are reproducible.</summary>
public sealed record ManifestFrame(int Index, string Blob, string Sha256, int Bytes, ulong Seed, float[] Label, string NoiseFrom, string NoiseTo, double NoiseBlend,
    string? DeviceKind = null, int ComputeChunk = 0, string? Precision = null);

public sealed record ManifestVideo(string Blob, string Sha256, long Bytes, int Fps);
