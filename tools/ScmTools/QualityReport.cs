using System.Globalization;
using System.Text;

namespace ScmTools;

/// <summary>One sampler's measurements: class accuracy of its digits, FD to the held-out digits, time per image (printed as images/s).</summary>
public sealed record QualityRow(string Sampler, string Nfe, double? ClassAccuracy, double FrechetDistance, double? SecondsPerImage);

/// <summary>One sampler's class accuracy and FD over several noise seeds: mean, lowest and highest, and each seed's FD in seed order.</summary>
public sealed record SeedSpread(string Sampler, int Seeds, double AccuracyMean, double AccuracyMin, double AccuracyMax, double FdMean, double FdMin, double FdMax,
    IReadOnlyList<double> Fds)
{
    public static SeedSpread Of(string sampler, IReadOnlyList<(double Accuracy, double Fd)> perSeed) =>
        new(sampler, perSeed.Count, perSeed.Average(p => p.Accuracy), perSeed.Min(p => p.Accuracy), perSeed.Max(p => p.Accuracy),
            perSeed.Average(p => p.Fd), perSeed.Min(p => p.Fd), perSeed.Max(p => p.Fd), perSeed.Select(p => p.Fd).ToList());
}

/// <summary>A checkpoint named in the report, with the training iterations its card records.</summary>
public sealed record ReportedCheckpoint(string Role, string Path, string Kind, long? Iterations, double? TrainingSeconds);

/// <summary>Everything docs/QUALITY.md states; <see cref="ToMarkdown"/> renders it.</summary>
public sealed record QualityReport
{
    public required string CommandLine { get; init; }
    public required string Machine { get; init; }
    public required DateTimeOffset Date { get; init; }
    public required int Samples { get; init; }
    public required int BatchSize { get; init; }
    public required ulong Seed { get; init; }
    public required double ClassifierAccuracy { get; init; }
    public required int HeldOutCount { get; init; }
    public required string ClassifierDescription { get; init; }
    public required IReadOnlyList<ReportedCheckpoint> Checkpoints { get; init; }
    public required IReadOnlyList<QualityRow> Rows { get; init; }
    public required QualityRow ScmOneStep { get; init; }
    public required QualityRow ScmTwoStep { get; init; }
    public required QualityRow Teacher63 { get; init; }
    /// <summary>Noise seeds of <see cref="Spread"/>: <see cref="Seed"/> and the ones after it.</summary>
    public required int NoiseSeeds { get; init; }
    public required IReadOnlyList<SeedSpread> Spread { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>The student card's t_mid (null: the card names none and 2 steps use sCM's 1.1).</summary>
    public double? StudentTMid { get; init; }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>An sCM row's FD over the teacher's 63-NFE FD, both at <see cref="Seed"/>.</summary>
    public double FdRatio(QualityRow scm) => scm.FrechetDistance / Teacher63.FrechetDistance;

    /// <summary>
    /// An sCM row's FD averaged over its noise seeds, over the teacher's 63-NFE FD averaged over its own (the first
    /// <see cref="TeacherSeeds"/> of the same seeds; one when it was not judged on more).
    /// </summary>
    public double MeanFdRatio(QualityRow scm) => MeanFd(scm) / MeanFd(Teacher63);

    /// <summary>Noise seeds the teacher's 63-NFE row was judged on.</summary>
    public int TeacherSeeds => SpreadOf(Teacher63)?.Seeds ?? 1;

    /// <summary>
    /// An sCM row's FD minus the teacher's, seed by seed over the seeds both were judged on (the same starting noise), as
    /// mean and standard error: how sure the ratio of means is. Null below two shared seeds.
    /// </summary>
    public (int Seeds, double Mean, double StandardError)? PairedFdDifference(QualityRow scm)
    {
        if (SpreadOf(scm) is not { } student || SpreadOf(Teacher63) is not { } teacher) return null;
        int n = Math.Min(student.Fds.Count, teacher.Fds.Count);
        if (n < 2) return null;
        var d = Enumerable.Range(0, n).Select(i => student.Fds[i] - teacher.Fds[i]).ToArray();
        double mean = d.Average();
        return (n, mean, Math.Sqrt(d.Sum(x => (x - mean) * (x - mean)) / (n - 1) / n));
    }

    string Paired(QualityRow scm) => PairedFdDifference(scm) is { } p
        ? string.Create(CultureInfo.InvariantCulture,
            $"; seed by seed (the same noise) its FD minus the teacher's: {p.Mean:+0.000;-0.000} +- {p.StandardError:F3} (standard error over {p.Seeds} seeds)")
        : "";

    SeedSpread? SpreadOf(QualityRow row) => Spread.SingleOrDefault(r => r.Sampler == row.Sampler);
    double MeanFd(QualityRow row) => SpreadOf(row)?.FdMean ?? row.FrechetDistance;
    public double? SpeedRatio => Teacher63.SecondsPerImage / ScmTwoStep.SecondsPerImage;

    /// <summary>The results table alone (also printed to the console).</summary>
    public string Table()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"| Sampler | NFE (network calls / image) | Class accuracy | FD to held-out ↓ | Images / s (batch {BatchSize}) |");
        s.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var row in Rows)
            s.AppendLine(CultureInfo.InvariantCulture, $"| {row.Sampler} | {row.Nfe} | {(row.ClassAccuracy is { } a ? F(100 * a, "F1") + " %" : "–")} | " +
                         $"{F(row.FrechetDistance, "F3")} | {(row.SecondsPerImage is { } t ? Measure.Rate(1 / t) : "–")} |");
        return s.ToString();
    }

    /// <summary>The sCM rows over <see cref="NoiseSeeds"/> noise seeds (also printed to the console).</summary>
    public string SpreadTable()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture,
            $"| Sampler, over {NoiseSeeds} noise seeds ({Seed}..{Seed + (ulong)NoiseSeeds - 1}) | Class accuracy: mean (range) | FD to held-out: mean (range) |");
        s.AppendLine("|---|---:|---:|");
        foreach (var r in Spread)
        {
            string seeds = r.Seeds != NoiseSeeds ? $" ({r.Seeds} seeds)" : "";
            s.AppendLine(CultureInfo.InvariantCulture, $"| {r.Sampler}{seeds} | {F(100 * r.AccuracyMean, "F1")} % ({F(100 * r.AccuracyMin, "F1")}..{F(100 * r.AccuracyMax, "F1")}) | " +
                         $"{F(r.FdMean, "F3")} ({F(r.FdMin, "F3")}..{F(r.FdMax, "F3")}) |");
        }
        return s.ToString();
    }

    public string ToMarkdown()
    {
        var s = new StringBuilder();
        s.AppendLine("# Sample quality: sCM student vs its TrigFlow diffusion teacher (MNIST)");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Generated by `scm-tools eval` on {Date:yyyy-MM-dd HH:mm} UTC. Sampling and the classifier are seeded, " +
                     $"so rerunning the command below reproduces accuracy and FD; timings depend on the machine and its load.");
        s.AppendLine();
        s.AppendLine("```");
        s.AppendLine(CommandLine);
        s.AppendLine("```");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine}.");
        s.AppendLine();
        s.AppendLine("## Checkpoints");
        s.AppendLine();
        s.AppendLine("| Role | Card | Kind | Training iterations | Training wall clock |");
        s.AppendLine("|---|---|---|---:|---:|");
        foreach (var c in Checkpoints)
            s.AppendLine(CultureInfo.InvariantCulture, $"| {c.Role} | `{c.Path}` | {c.Kind} | {(c.Iterations is { } i ? i.ToString("N0", CultureInfo.InvariantCulture) : "–")} | " +
                         $"{(c.TrainingSeconds is { } w ? F(w / 60, "F1") + " min" : "–")} |");
        s.AppendLine();
        s.AppendLine("## Results");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Judge: {ClassifierDescription}; accuracy on the {HeldOutCount:N0} real held-out digits: **{F(100 * ClassifierAccuracy, "F2")} %**.");
        s.AppendLine();
        s.Append(Table());
        s.AppendLine();
        string teacherMean = TeacherSeeds > 1 ? $"the teacher's over its {TeacherSeeds}" : "the teacher's one seed";
        s.AppendLine(CultureInfo.InvariantCulture, $"- FD ratio, sCM 2-step / teacher 63 NFE: **{F(FdRatio(ScmTwoStep), "F2")}** at seed {Seed} " +
                     $"(1 = the 2-step student matches the teacher's 63-NFE samples; " +
                     $"below 1 = closer to the real digits than the teacher); mean FD over {NoiseSeeds} noise seeds / {teacherMean}: **{F(MeanFdRatio(ScmTwoStep), "F2")}**" +
                     $"{Paired(ScmTwoStep)}.");
        s.AppendLine(CultureInfo.InvariantCulture, $"- FD ratio, sCM 1-step / teacher 63 NFE: **{F(FdRatio(ScmOneStep), "F2")}** at seed {Seed}; " +
                     $"mean FD over {NoiseSeeds} noise seeds / {teacherMean}: **{F(MeanFdRatio(ScmOneStep), "F2")}**{Paired(ScmOneStep)}.");
        if (SpeedRatio is { } speed)
            s.AppendLine(CultureInfo.InvariantCulture, $"- Time ratio, teacher 63 NFE / sCM 2-step: **{F(speed, "F1")}x** (how much faster the 2-step student samples).");
        foreach (var warning in Warnings) s.AppendLine(CultureInfo.InvariantCulture, $"- Warning: {warning}");
        s.AppendLine();
        s.AppendLine("How much one seed's figures move: the sCM rows again on other noise (the table above is the first seed), the teacher's " +
                     (TeacherSeeds > 1
                         ? $"63-NFE row on the first {TeacherSeeds} of the same seeds (the same starting noise z as the sCM rows; " +
                           "its other rows stay at one seed: at 63 NFE each seed costs minutes on a CPU)."
                         : "rows at one seed only (at 63 NFE each seed costs minutes on a CPU; `--teacher-noise-seeds` judges more), so the mean ratios divide by one seed's FD."));
        s.AppendLine();
        s.Append(SpreadTable());
        s.AppendLine();
        s.AppendLine("## Method");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"- Each generator makes {Samples:N0} digits, {Samples / 10:N0} per class, with class-conditional labels and fixed noise: " +
                     $"sample i of class c uses noise stream (seed {Seed}, frame i). The teacher starts from the same z (sigma_data times step-0 noise) as the student.");
        s.AppendLine("- sCM rows: `ConsistencySampler`; 1 step evaluates f at t_max = atan(80 / 0.5); 2 steps re-noise to " +
                     (StudentTMid is { } tMid ? "t_mid = " + F(tMid, "G3") + " (the card's t_mid, chosen on the validation digits)" : "t_mid = 1.1 (sCM's default)") +
                     " and evaluate again.");
        s.AppendLine("- Teacher rows: `TeacherSampler`, a deterministic DPM-Solver++(2M) PF-ODE solver in data-prediction form on EDM's rho = 7 grid " +
                     "(sigma 80 to 0.002, t = atan(sigma / sigma_data)), last step to t = 0 first order. NFE counts network calls per image: with classifier-free guidance each step costs two.");
        s.AppendLine("- Class accuracy: share of generated digits the classifier assigns to the requested class.");
        s.AppendLine("- FD: Fréchet distance |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2) between Gaussians fitted to the classifier's penultimate-layer features " +
                     $"of the generated digits and of the {HeldOutCount:N0} held-out digits (float64, symmetric eigendecompositions). " +
                     "The reference row compares real training digits (same count and class balance) with the held-out digits: the floor FD can reach at this sample size. " +
                     "FD values are only comparable within this feature space (not to published FID numbers).");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Images / s: the number of images divided by the wall clock of the sampler calls only (noise generation included, " +
                     $"classifier excluded; the device synchronised before each clock read). Every row runs the network on batches (compute chunks) " +
                     $"of exactly {BatchSize} images, after one warm-up forward pass per network.");
        return s.ToString();
    }
}
