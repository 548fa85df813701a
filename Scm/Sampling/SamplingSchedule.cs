namespace Scm.Sampling;

/// <summary>
/// The TrigFlow times at which the consistency function is evaluated: t_max first, then each intermediate
/// time (re-noise to t, denoise again). 1 step = [t_max]; 2 steps = [t_max, t_mid = 1.1] (sCM's default).
/// </summary>
public sealed record SamplingSchedule(IReadOnlyList<double> Times)
{
    public const int MaxSteps = 64;

    public int Steps => Times.Count;

    public static SamplingSchedule ForSteps(int steps, IReadOnlyList<double>? intermediateTimes = null)
    {
        if (steps < 1 || steps > MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in [1, {MaxSteps}].");
        IReadOnlyList<double> middle = intermediateTimes ?? DefaultIntermediateTimes(steps);
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

    /// <summary>2 steps: [1.1]. More: evenly spaced in t from 1.1 down to 0.2.</summary>
    static double[] DefaultIntermediateTimes(int steps)
    {
        if (steps == 1) return [];
        if (steps == 2) return [TrigFlow.DefaultTMid];
        return Enumerable.Range(0, steps - 1).Select(i => TrigFlow.DefaultTMid - i * (TrigFlow.DefaultTMid - 0.2) / (steps - 2)).ToArray();
    }
}
