namespace Grains.Interfaces;

/// <summary>What the cluster knows about a registered model, without loading its weights.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelInfo
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public int Resolution { get; init; }
    [Id(3)] public int Channels { get; init; }
    [Id(4)] public int NumClasses { get; init; }
    [Id(5)] public string[] ClassNames { get; init; } = [];
    [Id(6)] public bool SupportsGuidance { get; init; }
    [Id(7)] public int DefaultItemFrames { get; init; } = 16;
}
