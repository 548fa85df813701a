using System.Text.Json;
using System.Text.Json.Serialization;

namespace Scm.Evaluation;

/// <summary>The JSON file beside the evaluation classifier's weights: architecture, how it was trained, how good it is.</summary>
public sealed record ClassifierCard
{
    public const string ClassifierKind = "mnist-classifier";

    public required string Name { get; init; }
    /// <summary>Always "mnist-classifier": guards against pointing the evaluator at a generator's card.</summary>
    public required string Kind { get; init; }
    public required ClassifierConfig Network { get; init; }
    public string[] ClassNames { get; init; } = [];
    /// <summary>File name of the safetensors weights, relative to the card.</summary>
    public string Weights { get; init; } = "model.safetensors";
    /// <summary>Accuracy on the 2,000 held-out digits (never seen in training).</summary>
    public double HeldOutAccuracy { get; init; }
    public ClassifierTrainingSummary? Training { get; init; }

    /// <summary>The same card conventions as model cards: snake_case, nulls omitted, null required fields rejected.</summary>
    public static JsonSerializerOptions JsonOptions => Checkpoints.ModelCard.JsonOptions;
}

public sealed record ClassifierTrainingSummary
{
    public string? Dataset { get; init; }
    public int TrainExamples { get; init; }
    public int Epochs { get; init; }
    public int BatchSize { get; init; }
    public double LearningRate { get; init; }
    public int MaxShift { get; init; }
    public ulong Seed { get; init; }
    public double WallClockSeconds { get; init; }
    /// <summary>Process CPU time of the run: unlike wall clock, barely affected by other jobs on a shared machine.</summary>
    public double CpuSeconds { get; init; }
    public string? Hardware { get; init; }
    public long Parameters { get; init; }
}
