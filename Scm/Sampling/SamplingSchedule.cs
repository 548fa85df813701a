namespace Scm.Sampling;

/// <summary>
/// The TrigFlow times at which the consistency function is evaluated: t_max first, then each intermediate
/// time (re-noise to t, denoise again). 1 step = [t_max]; 2 steps = [t_max, t_mid] (sCM's default 1.1, or the one the
/// model card names).
/// </summary>
public sealed record SamplingSchedule(IReadOnlyList<double> Times)
{
    public const int MaxSteps = 64;

    public int Steps => Times.Count;

    /// <param name="tMid">The default intermediate time when <paramref name="intermediateTimes"/> is null (a model card's; null: 1.1).</param>
    public static SamplingSchedule ForSteps(int steps, IReadOnlyList<double>? intermediateTimes = null, double? tMid = null)
    {
        if (steps < 1 || steps > MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in [1, {MaxSteps}].");
        IReadOnlyList<double> middle = intermediateTimes ?? DefaultIntermediateTimes(steps, tMid ?? TrigFlow.DefaultTMid);
        if (middle.Count != steps - 1)
            throw new ArgumentException($"intermediateTimes must hold steps - 1 = {steps - 1} values, got {middle.Count}.", nameof(intermediateTimes));
        double previous = TrigFlow.TMax;
        foreach (double t in middle)
        {
            if (!(t > 0 && t < previous))
                throw new ArgumentException($"intermediateTimes must decrease strictly within (0, {TrigFlow.TMax:F4}); got {t}.", nameof(intermediateTimes));
            previous = t;
        }
        return new SamplingSchedule([TrigFlow.TMax, .. middle]);
    }

    /// <summary>2 steps: [t_mid]. More: evenly spaced in t from t_mid down to min(0.2, t_mid / 2).</summary>
    static double[] DefaultIntermediateTimes(int steps, double tMid)
    {
        if (steps == 1) return [];
        if (steps == 2) return [tMid];
        double last = Math.Min(0.2, tMid / 2);
        return Enumerable.Range(0, steps - 1).Select(i => tMid - i * (tMid - last) / (steps - 2)).ToArray();
    }
}
