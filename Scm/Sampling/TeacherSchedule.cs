namespace Scm.Sampling;

/// <summary>
/// The TrigFlow times at which the PF-ODE solver evaluates the teacher, t_0 = t_max &gt; ... &gt; t_{N-1} &gt; 0; the
/// solver then finishes at t = 0. N is the number of function evaluations (NFE) of the velocity F.
/// The grid is EDM's (Karras et al. 2022) rho = 7 noise-level schedule
///   sigma_i = (sigma_max^(1/rho) + i / (N - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
/// mapped to TrigFlow time by t = atan(sigma / sigma_data) (x_t / cos t = x0 + tan t z, so EDM's sigma is
/// sigma_data tan t). rho = 7 spends most steps at low noise, where image detail is decided.
/// </summary>
public sealed record TeacherSchedule(IReadOnlyList<double> Times)
{
    public const double SigmaMax = 80;
    public const double SigmaMin = 0.002;
    public const double Rho = 7;
    public const int MaxNfe = 1000;

    /// <summary>Function evaluations of F per sample (guided: each costs two network calls).</summary>
    public int Nfe => Times.Count;

    public static TeacherSchedule ForNfe(int nfe, double sigmaMax = SigmaMax, double sigmaMin = SigmaMin, double rho = Rho)
    {
        if (nfe < 1 || nfe > MaxNfe) throw new ArgumentOutOfRangeException(nameof(nfe), nfe, $"NFE must be in [1, {MaxNfe}].");
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new ArgumentException($"Need 0 < sigma_min < sigma_max; got {sigmaMin}, {sigmaMax}.");
        if (!(rho > 0)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be > 0.");
        if (nfe == 1) return new TeacherSchedule([Math.Atan(sigmaMax / TrigFlow.SigmaData)]);
        double hi = Math.Pow(sigmaMax, 1 / rho), lo = Math.Pow(sigmaMin, 1 / rho);
        var times = new double[nfe];
        for (int i = 0; i < nfe; i++)
        {
            double sigma = Math.Pow(hi + (double)i / (nfe - 1) * (lo - hi), rho);
            times[i] = Math.Atan(sigma / TrigFlow.SigmaData);
        }
        return new TeacherSchedule(times);
    }
}
