namespace Grains.Interfaces;

/// <summary>Bounds on job specs, bound from configuration section "Limits".</summary>
[GenerateSerializer, Immutable]
public sealed record JobLimits : IValidatedOptions
{
    public const string Section = "Limits";

    [Id(0)] public int MaxFrames { get; init; } = 10_000;
    [Id(1)] public int MaxOutputSize { get; init; } = 1024;
    [Id(2)] public int MaxSteps { get; init; } = 16;
    [Id(3)] public int MaxFps { get; init; } = 60;
    [Id(4)] public int MaxKeyframes { get; init; } = 64;
    [Id(5)] public int MaxPriority { get; init; } = 100;
    [Id(6)] public int MaxItemFrames { get; init; } = 256;
    [Id(7)] public double MaxGuidance { get; init; } = 10;

    public IEnumerable<string> Problems()
    {
        static string Range(string key, object low, object high, object value) => $"Limits:{key} must be in [{low}, {high}], got {value}";
        if (MaxFrames is < 1 or > 1_000_000) yield return Range(nameof(MaxFrames), 1, 1_000_000, MaxFrames);
        if (MaxOutputSize is < 8 or > 8192) yield return Range(nameof(MaxOutputSize), 8, 8192, MaxOutputSize);
        if (MaxSteps is < 1 or > 1000) yield return Range(nameof(MaxSteps), 1, 1000, MaxSteps);
        if (MaxFps is < 1 or > 1000) yield return Range(nameof(MaxFps), 1, 1000, MaxFps);
        if (MaxKeyframes is < 1 or > 100_000) yield return Range(nameof(MaxKeyframes), 1, 100_000, MaxKeyframes);
        if (MaxPriority is < 0 or > 1_000_000) yield return Range(nameof(MaxPriority), 0, 1_000_000, MaxPriority);
        if (MaxItemFrames < 1 || MaxItemFrames > Math.Max(1, MaxFrames)) yield return Range(nameof(MaxItemFrames), 1, "MaxFrames", MaxItemFrames);
        if (!double.IsFinite(MaxGuidance) || MaxGuidance is < 1 or > 100) yield return Range(nameof(MaxGuidance), 1, 100, MaxGuidance);
    }
}
