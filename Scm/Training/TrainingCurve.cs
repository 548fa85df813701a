using System.Text.Json;
using System.Text.Json.Serialization;
using Scm.Evaluation;

namespace Scm.Training;

/// <summary>One point of a training curve: the mean training loss since the previous point and the EMA's validation quality.</summary>
public sealed record CurvePoint(
    [property: JsonPropertyName("iteration")] long Iteration,
    [property: JsonPropertyName("wall_clock_seconds")] double WallClockSeconds,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("one_step_accuracy")] double OneStepAccuracy,
    [property: JsonPropertyName("one_step_fd")] double OneStepFd,
    [property: JsonPropertyName("two_step_accuracy")] double TwoStepAccuracy,
    [property: JsonPropertyName("two_step_fd")] double TwoStepFd,
    [property: JsonPropertyName("two_step_at")] IReadOnlyList<TMidPoint>? TwoStepAt = null)
{
    public static CurvePoint From(long iteration, double seconds, double loss, SampleQuality oneStep, SampleQuality twoStep,
        IReadOnlyList<TMidPoint>? twoStepAt = null) =>
        new(iteration, seconds, loss, oneStep.Accuracy, oneStep.FrechetDistance, twoStep.Accuracy, twoStep.FrechetDistance,
            twoStepAt is { Count: > 0 } ? twoStepAt : null);
}

/// <summary>The 2-step probed at another t_mid than the run's (<c>train scd --probe-t-mids</c>): the one it may be served at.</summary>
public sealed record TMidPoint(
    [property: JsonPropertyName("t_mid")] double TMid,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("fd")] double Fd);

/// <summary>
/// The validation curve of a run, one JSON object per line in <c>{run}/curve.jsonl</c>. On resume, points past the
/// resumed iteration (written after the last checkpoint of a crashed run) are dropped: they will be measured again.
/// </summary>
public sealed class TrainingCurve(string runDirectory)
{
    readonly List<CurvePoint> points = [];

    public string Path => System.IO.Path.Combine(runDirectory, "curve.jsonl");
    public IReadOnlyList<CurvePoint> Points => points;

    /// <summary>The point with the lowest 2-step validation FD so far, if any.</summary>
    public CurvePoint? Best => points.Count == 0 ? null : points.MinBy(p => p.TwoStepFd);

    public void Load(long resumedIteration)
    {
        points.Clear();
        points.AddRange(Read(runDirectory).Where(p => p.Iteration <= resumedIteration));
        Rewrite();
    }

    /// <summary>The points a run has written so far (none if it has no curve yet), without touching the file.</summary>
    public static IReadOnlyList<CurvePoint> Read(string runDirectory)
    {
        string path = new TrainingCurve(runDirectory).Path;
        return File.Exists(path)
            ? File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize(l, CurveJson.Default.CurvePoint)!).ToList()
            : [];
    }

    public void Append(CurvePoint point)
    {
        points.Add(point);
        File.AppendAllText(Path, JsonSerializer.Serialize(point, CurveJson.Default.CurvePoint) + "\n");
    }

    void Rewrite()
    {
        Directory.CreateDirectory(runDirectory);
        File.WriteAllLines(Path, points.Select(p => JsonSerializer.Serialize(p, CurveJson.Default.CurvePoint)));
    }
}

[JsonSerializable(typeof(CurvePoint))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class CurveJson : JsonSerializerContext;
