namespace Scm.Training;

/// <summary>Options specific to continuous-time consistency distillation.</summary>
public sealed record ScdOptions
{
    public required string TeacherCardPath { get; init; }
    /// <summary>Tangent warmup: r = min(1, iteration / H).</summary>
    public int TangentWarmup { get; init; } = 500;
    /// <summary>c in the tangent normalisation g / (||g|| + c).</summary>
    public double TangentNormalizationConstant { get; init; } = 0.1;
    /// <summary>Which norm of g the normalisation divides by (see <see cref="TangentNorm"/>).</summary>
    public TangentNorm TangentNorm { get; init; } = TangentNorm.L2;
    /// <summary>How the JVP is computed (exact double backward, or a central finite difference at about half the cost).</summary>
    public JvpMethod Jvp { get; init; } = JvpMethod.DoubleBackward;
    /// <summary>h of <see cref="JvpMethod.BackwardDifference"/>, in units of the JVP's tangents (t moves back by h cos t sin t).</summary>
    public double BackwardStep { get; init; } = 0.05;
    /// <summary>Use sCM's prior weighting w(t) = 1 / (sigma_data tan t); off by default (see docs/MODEL.md).</summary>
    public bool PriorWeighting { get; init; }
    /// <summary>
    /// From this iteration on, F_minus and its JVP come from the EMA weights: a target network, as semi-gradient
    /// bootstrapping uses (DQN's soft target updates; the original consistency models' EMA target). Where the EMA equals
    /// the online weights the gradient is the paper's; elsewhere the residual F_theta - F_ema adds a pull of the online
    /// function towards its average, and the tangent is measured on the averaged weights. Null: the paper's
    /// theta_minus = stopgrad(theta) throughout. (From iteration 0 it slows the early phase a lot; see docs/MODEL.md.)
    /// </summary>
    public long? EmaTargetFrom { get; init; }
    /// <summary>
    /// With <see cref="EmaTargetFrom"/>: the decay of the target network's own EMA of the online weights. Null: the target
    /// is the model's EMA (TrainingOptions.EmaDecay), the one evaluated, exported and served. Separate, the served average
    /// can span a longer window than the target that drives training (whose averaging sets the pace of its feedback).
    /// </summary>
    public double? TargetEmaDecay { get; init; }
    /// <summary>
    /// Classifier-free guidance scale s of the teacher's velocity (1 = none). The student learns the guided teacher's
    /// PF-ODE at this one scale and has no guidance input (the sCM paper distils its ImageNet models from a guided
    /// teacher the same way); each iteration costs one more teacher pass.
    /// </summary>
    public double TeacherGuidance { get; init; } = 1.0;
    /// <summary>
    /// Dropout rate of the student (null: the teacher's). Dropout has no weights, so the student still starts as the
    /// teacher; it needs the exact JVP, which sees the same dropout mask as F_theta (one forward pass).
    /// </summary>
    public double? StudentDropout { get; init; }
    /// <summary>
    /// Residual blocks added to every stage of the student beyond the teacher's (<see cref="NetworkConfig.ExtraBlocksPerStage"/>):
    /// more capacity for the consistency map, which must turn noise into a digit in one evaluation where the teacher only
    /// denoises. They start as the identity, so the student still starts as the teacher.
    /// </summary>
    public int StudentExtraBlocks { get; init; }
    /// <summary>
    /// A consistency model's card to start the student from instead of the teacher (same architecture as the student):
    /// to continue from a shipped model with another objective. Pair with TangentWarmup = 0 (it is past its warmup).
    /// </summary>
    public string? StudentFrom { get; init; }
    /// <summary>The distribution-matching regulariser (<see cref="Training.DistributionMatching"/>); null: off (the paper's sCD).</summary>
    public DistributionMatchingOptions? DistributionMatching { get; init; }
    /// <summary>The model's 2-step intermediate time (<see cref="ModelCard.TMid"/>): validation, distribution matching's 2-step samples, the card.</summary>
    public double TMid { get; init; } = TrigFlow.DefaultTMid;
    /// <summary>
    /// More t_mid the validation probe judges the 2-step at, beside <see cref="TMid"/>: a model matched at sCM's 1.1 is
    /// served lower (docs/MODEL-ABLATIONS.md), and its curve should show that t_mid too.
    /// </summary>
    public IReadOnlyList<double> ProbeTMids { get; init; } = [];

    /// <summary>At most this many <see cref="ProbeTMids"/> (each costs a 2-step sampling of the probe's digits per point).</summary>
    public const int MaxProbeTMids = 8;

    public void Validate()
    {
        if (!(BackwardStep > 0 && BackwardStep <= 1)) throw new ArgumentOutOfRangeException(nameof(BackwardStep), $"--jvp-step must be in (0, 1]; got {BackwardStep}.");
        if (TangentWarmup < 0) throw new ArgumentOutOfRangeException(nameof(TangentWarmup), "--tangent-warmup must be >= 0.");
        if (!(TangentNormalizationConstant >= 0)) throw new ArgumentOutOfRangeException(nameof(TangentNormalizationConstant), "--tangent-c must be >= 0.");
        if (!(TeacherGuidance >= 0 && TeacherGuidance <= 100))
            throw new ArgumentOutOfRangeException(nameof(TeacherGuidance), $"--teacher-guidance must be in [0, 100] (1 = none); got {TeacherGuidance}.");
        if (EmaTargetFrom is < 0) throw new ArgumentOutOfRangeException(nameof(EmaTargetFrom), "--ema-target-from (the first iteration with the EMA as target) must be >= 0.");
        if (TargetEmaDecay is { } decay && !(decay >= 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(TargetEmaDecay), $"--target-ema-decay must be in [0, 1); got {decay}.");
        if (StudentExtraBlocks is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(StudentExtraBlocks), $"--extra-blocks must be in [0, 8]; got {StudentExtraBlocks}.");
        if (StudentDropout is { } p && !(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(StudentDropout), $"--dropout must be in [0, 1); got {p}.");
        DistributionMatching?.Validate();
        if (!(TMid > 0 && TMid < TrigFlow.TMax)) throw new ArgumentOutOfRangeException(nameof(TMid), $"--t-mid must be in (0, {TrigFlow.TMax:F4}); got {TMid}.");
        if (ProbeTMids.Count > MaxProbeTMids)
            throw new ArgumentOutOfRangeException(nameof(ProbeTMids), $"--probe-t-mids names at most {MaxProbeTMids} times; got {ProbeTMids.Count}.");
        foreach (double t in ProbeTMids)
            if (!(t > 0 && t < TrigFlow.TMax)) throw new ArgumentOutOfRangeException(nameof(ProbeTMids), $"--probe-t-mids: each must be in (0, {TrigFlow.TMax:F4}); got {t}.");
        if (ProbeTMids.Distinct().Count() != ProbeTMids.Count || ProbeTMids.Contains(TMid))
            throw new ArgumentException($"--probe-t-mids: each time once, and not --t-mid ({TMid}), which the curve probes already.", nameof(ProbeTMids));
        if (TargetEmaDecay is not null && EmaTargetFrom is null)
            throw new ArgumentException("--target-ema-decay needs --ema-target-from (it is the decay of that target network).", nameof(TargetEmaDecay));
    }
}

/// <summary>
/// The norm in sCM's tangent normalisation g / (||g|| + c). <see cref="L2"/> is the paper's ||g||_2 over all D pixels
/// (then c = 0.1 is negligible for any g of per-pixel size ~0.1 and up); <see cref="Rms"/> is the per-element root mean
/// square ||g||_2 / sqrt(D), under which c damps tangents whose pixels are below ~c and the normalised g has
/// per-pixel size ~1 instead of ~1/sqrt(D).
/// </summary>
public enum TangentNorm { L2, Rms }
