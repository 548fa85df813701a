namespace Grains.Interfaces;

/// <summary>Bounds on job specs, bound from configuration section "Limits".</summary>
[GenerateSerializer, Immutable]
public sealed record JobLimits
{
    [Id(0)] public int MaxFrames { get; init; } = 10_000;
    [Id(1)] public int MaxOutputSize { get; init; } = 1024;
    [Id(2)] public int MaxSteps { get; init; } = 16;
    [Id(3)] public int MaxFps { get; init; } = 60;
    [Id(4)] public int MaxKeyframes { get; init; } = 64;
    [Id(5)] public int MaxPriority { get; init; } = 100;
    [Id(6)] public int MaxBatchFrames { get; init; } = 256;
    [Id(7)] public double MaxGuidance { get; init; } = 10;
}
