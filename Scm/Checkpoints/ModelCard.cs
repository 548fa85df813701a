using System.Text.Json;
using System.Text.Json.Serialization;
using Scm.Network;

namespace Scm.Checkpoints;

/// <summary>The JSON file beside a checkpoint's weights: what the weights are and how they were made.</summary>
public sealed record ModelCard
{
    public required string Name { get; init; }
    /// <summary>"consistency" (sCM student: 1/2/N-step sampling) or "diffusion" (TrigFlow teacher: PF-ODE solver).</summary>
    public required string Kind { get; init; }
    public required NetworkConfig Network { get; init; }
    public double SigmaData { get; init; } = TrigFlow.SigmaData;
    public string[] ClassNames { get; init; } = [];
    /// <summary>File name of the safetensors weights, relative to the card.</summary>
    public string Weights { get; init; } = "model.safetensors";
    public TrainingSummary? Training { get; init; }
    /// <summary>
    /// A consistency model's intermediate time for 2-step sampling (and the top of the N-step spacing), chosen with the
    /// model on the validation split; a job that names no times samples at it. Null: sCM's 1.1. A model whose 1-step is
    /// sharp needs less of its first sample re-drawn, so a lower t_mid keeps more of it (docs/MODEL.md).
    /// </summary>
    public double? TMid { get; init; }

    public const string ConsistencyKind = "consistency";
    public const string DiffusionKind = "diffusion";

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A null where the record has a non-nullable member ("network": null) fails as a JsonException naming it,
        // instead of a NullReferenceException later.
        RespectNullableAnnotations = true,
    };
}

public sealed record TrainingSummary
{
    public string? Dataset { get; init; }
    public string? Objective { get; init; }
    public long Iterations { get; init; }
    public int BatchSize { get; init; }
    public double WallClockSeconds { get; init; }
    public string? Hardware { get; init; }
    public ulong Seed { get; init; }
    /// <summary>The weights training started from (another card's path as given to the trainer); null for a fresh start.</summary>
    public string? InitializedFrom { get; init; }
    /// <summary>The teacher a distilled model learned from (sCD runs; it differs from <see cref="InitializedFrom"/> when a run continues a student).</summary>
    public string? Teacher { get; init; }
    public Dictionary<string, double>? Hyperparameters { get; init; }
}
