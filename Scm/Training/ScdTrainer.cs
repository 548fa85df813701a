using Scm.Checkpoints;
using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

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

/// <summary>
/// sCD (sCM paper, Algorithm 1). The student F_theta starts from the teacher's EMA weights. Per sample:
///   dx_t/dt = sigma_data F_teacher(x_t / sigma_data, t)
///   g = -cos^2(t) (sigma_data F_minus - dx_t/dt) - r cos(t) sin(t) (x_t + sigma_data dF_minus/dt)
/// where F_minus is the current network under stop-gradient and cos(t) sin(t) dF_minus/dt is the JVP of F_minus
/// at (x_t / sigma_data, t) along (cos t sin t dx_t/dt / sigma_data, cos t sin t). Then g is normalised by
/// (||g|| + c) and the loss is (w(t) / exp(u(t))) mean||F_theta - F_minus - g||^2 + u(t), with u the
/// network's log-variance head (adaptive weighting).
/// </summary>
public sealed class ScdTrainer : Trainer
{
    readonly ScdOptions scd;
    readonly ScmUNet teacher;
    /// <summary>The target network's own EMA (<see cref="ScdOptions.TargetEmaDecay"/>); null: the target is the model's EMA.</summary>
    readonly ScmUNet? targetNetwork;
    readonly Ema? targetEma;
    readonly DistributionMatching? distributionMatching;

    public ScdTrainer(TrainingOptions options, ScdOptions scd, MnistDigits data)
        : this(options, scd, data, Checkpoint.Load(scd.TeacherCardPath, torch.device(options.Device))) { }

    ScdTrainer(TrainingOptions options, ScdOptions scd, MnistDigits data, (ScmUNet Network, ModelCard Card) teacher)
        : base(options, StudentConfig(scd, teacher.Card.Network), data)
    {
        if (teacher.Card.Kind != ModelCard.DiffusionKind)
            throw new ArgumentException($"{scd.TeacherCardPath} is a '{teacher.Card.Kind}' model; sCD needs a diffusion teacher.");
        if (scd.Jvp != JvpMethod.DoubleBackward && Online.Config.Dropout > 0)
            throw new ArgumentException("A finite-difference JVP needs a deterministic network; this one has dropout. Use the double-backward JVP.");
        if (scd.TeacherGuidance != 1.0 && teacher.Card.Network.NumClasses == 0)
            throw new ArgumentException($"--teacher-guidance {scd.TeacherGuidance}: classifier-free guidance needs a class-conditional teacher; {scd.TeacherCardPath} is unconditional.");
        this.scd = scd;
        this.teacher = teacher.Network;
        Place(this.teacher);
        foreach (var p in this.teacher.parameters()) p.requires_grad = false;
        if (scd.TargetEmaDecay is { } decay)
        {
            targetNetwork = Place(new ScmUNet(Online.Config));
            targetNetwork.eval();
            targetEma = new Ema(Online, targetNetwork, decay);
        }
        if (scd.DistributionMatching is { } dm)
            distributionMatching = new DistributionMatching(dm, (xt, t, labels) => TeacherVelocity(this.teacher, xt, t, labels, scd.TeacherGuidance),
                Place(new ScmUNet(teacher.Card.Network)), Normal, SampleTime, scd.TMid);
    }

    /// <summary>The teacher's architecture, with the student's own dropout rate and extra blocks if asked for (validated first).</summary>
    static NetworkConfig StudentConfig(ScdOptions scd, NetworkConfig teacher)
    {
        scd.Validate();
        int extra = teacher.ExtraBlocksPerStage + scd.StudentExtraBlocks;
        if (extra > 8)
            throw new ArgumentOutOfRangeException(nameof(scd), $"--extra-blocks {scd.StudentExtraBlocks} on a teacher with {teacher.ExtraBlocksPerStage} per stage makes {extra}; at most 8.");
        return teacher with
        {
            Dropout = scd.StudentDropout ?? teacher.Dropout,
            ExtraBlocksPerStage = teacher.ExtraBlocksPerStage + scd.StudentExtraBlocks,
        };
    }

    const string TargetStateName = "target-ema", FakeScoreStateName = "fake-score";

    protected override IReadOnlyList<RunState.Auxiliary> AuxiliaryState =>
    [
        .. targetNetwork is null ? [] : new[] { new RunState.Auxiliary(TargetStateName, targetNetwork) },
        .. distributionMatching is null ? [] : new[] { new RunState.Auxiliary(FakeScoreStateName, distributionMatching.FakeScore, distributionMatching.FakeOptimizer) },
    ];

    /// <summary>
    /// The target's EMA starts as the model's EMA, the fake score as the teacher (fresh, or resumed from a run saved without
    /// them).
    /// </summary>
    protected override void InitializeAuxiliary(IReadOnlyList<string> missing, TextWriter log)
    {
        if (targetNetwork is not null && missing.Contains(TargetStateName))
        {
            Ema.Copy(EmaNetwork, targetNetwork);
            log.WriteLine($"Target network: its own EMA (decay {scd.TargetEmaDecay}) starts from the model's EMA.");
        }
        if (distributionMatching is not null && missing.Contains(FakeScoreStateName))
        {
            Ema.Copy(teacher, distributionMatching.FakeScore);
            log.WriteLine("Distribution matching: the fake-score network starts as the teacher.");
        }
    }

    protected override void AfterStep(long iteration, Generator generator, TextWriter log)
    {
        targetEma?.Update();
        if (distributionMatching?.UpdateFakeScore(generator) is > 0 and var skipped)
            log.WriteLine($"scd: iteration {iteration}: {skipped} fake-score update(s) skipped, gradient not finite.");
    }

    protected override string Objective => "scd";
    protected override string CardKind => ModelCard.ConsistencyKind;
    protected override string? InitializedFrom => scd.StudentFrom ?? scd.TeacherCardPath;
    protected override double? TMid => scd.TMid;
    protected override IReadOnlyList<double> ProbeTMids => scd.ProbeTMids;

    protected override void InitializeFreshRun()
    {
        if (scd.StudentFrom is null)
        {
            Ema.Copy(teacher, Online);
            return;
        }
        var (network, card) = Checkpoint.Load(scd.StudentFrom, torch.device(Options.Device));
        using (network)
        {
            if (card.Kind != ModelCard.ConsistencyKind)
                throw new ArgumentException($"--student-from {scd.StudentFrom} is a '{card.Kind}' model; the student starts from a consistency model (or, without the option, the teacher).");
            if (!Ema.SameShapes(Online, network))
                throw new ArgumentException($"--student-from {scd.StudentFrom} has another architecture than this run's student (the teacher's, with --extra-blocks and --dropout).");
            Ema.Copy(Place(network), Online);
        }
    }

    protected override Dictionary<string, double> Hyperparameters()
    {
        var h = base.Hyperparameters();
        h["tangent_warmup"] = scd.TangentWarmup;
        h["tangent_normalization_c"] = scd.TangentNormalizationConstant;
        h["tangent_norm_rms"] = scd.TangentNorm == TangentNorm.Rms ? 1 : 0;
        h["prior_weighting"] = scd.PriorWeighting ? 1 : 0;
        h["jvp_finite_difference"] = scd.Jvp == JvpMethod.FiniteDifference ? 1 : 0;
        if (scd.Jvp == JvpMethod.BackwardDifference) h["jvp_backward_step"] = scd.BackwardStep;
        if (scd.EmaTargetFrom is { } from) h["ema_target_from"] = from;
        if (scd.TargetEmaDecay is { } targetDecay) h["target_ema_decay"] = targetDecay;
        if (scd.TeacherGuidance != 1.0) h["teacher_guidance"] = scd.TeacherGuidance;
        if (scd.StudentExtraBlocks > 0) h["student_extra_blocks"] = scd.StudentExtraBlocks;
        if (scd.DistributionMatching is { } dm)
            (h["dmd_weight"], h["dmd_from"], h["dmd_fake_learning_rate"], h["dmd_fake_updates"]) = (dm.Weight, dm.From, dm.FakeLearningRate, dm.FakeUpdates);
        return h;
    }

    protected override Tensor Loss(long iteration, Generator generator)
    {
        double sigmaData = TrigFlow.SigmaData;
        var (x0, labels) = Batch(generator);
        var t = SampleTime(generator);
        var z = Normal(x0.shape, generator) * sigmaData;
        var xt = TrigFlow.Noise(x0, z, t);

        Tensor dxtDt;
        using (no_grad()) dxtDt = TeacherVelocity(teacher, xt, t, labels, scd.TeacherGuidance);

        // The JVP cos(t) sin(t) dF_minus/dt: F_minus at (x_t / sigma_data, t) along (cos t sin t dx_t/dt / sigma_data, cos t sin t).
        // Exact: one forward pass with gradients on the inputs and the parameters gives F_minus (its value, detached),
        // the JVP (its input-Jacobian, by double backward) and the student's gradient (its parameter graph). With the EMA
        // as target (from EmaTargetFrom on), F_minus and the JVP come from a second forward pass, on the EMA.
        bool exact = scd.Jvp == JvpMethod.DoubleBackward;
        var xIn = (xt / sigmaData).detach().requires_grad_(exact);
        var tIn = TrigFlow.CNoise(t).detach().requires_grad_(exact);
        var tangents = JvpTangents(t, dxtDt);
        var target = iteration >= scd.EmaTargetFrom ? targetNetwork ?? EmaNetwork : Online;
        Tensor TargetAt(Tensor[] inputs) => target.forward(inputs[0], inputs[1], labels, null);
        var jvp = scd.Jvp == JvpMethod.FiniteDifference ? Jvp.FiniteDifference(TargetAt, [xIn, tIn], tangents) : null;
        var fTheta = Online.forward(xIn, tIn, labels, null);
        var fTarget = ReferenceEquals(target, Online) ? fTheta : target.forward(xIn, tIn, labels, null);
        var fMinus = fTarget.detach();
        jvp ??= exact ? Jvp.Compute(fTarget, [xIn, tIn], tangents) : Jvp.Backward(TargetAt, [xIn, tIn], tangents, fMinus, scd.BackwardStep);

        double r = scd.TangentWarmup == 0 ? 1.0 : Math.Min(1.0, (double)iteration / scd.TangentWarmup);
        var g = Tangent(xt, t, fMinus, dxtDt, jvp, r);
        var gNorm = g.flatten(1).norm(dim: 1).view(-1, 1, 1, 1); // per-sample L2 norm
        if (scd.TangentNorm == TangentNorm.Rms) gNorm /= Math.Sqrt(g[0].numel());
        g = (g / (gNorm + scd.TangentNormalizationConstant)).detach();

        var logvar = Online.LogVariance(tIn.detach());
        var weight = scd.PriorWeighting ? 1.0 / (sigmaData * t.tan()) : ones_like(t);
        var perSample = (fTheta - fMinus - g).square().flatten(1).mean([1]);
        var loss = (weight / logvar.exp() * perSample + logvar).mean();
        return distributionMatching?.ActiveAt(iteration) == true ? loss + distributionMatching.Loss(Online, labels, iteration, generator) : loss;
    }

    /// <summary>dx_t/dt = sigma_data F_teacher(x_t / sigma_data, t), guided at scale <paramref name="guidance"/> (1 = none).</summary>
    public static Tensor TeacherVelocity(ScmUNet teacher, Tensor xt, Tensor t, Tensor? labels, double guidance)
    {
        if (guidance == 1.0) return TrigFlow.Velocity(teacher, xt, t, labels, null);
        var f = TrigFlow.Guided((x, c, l) => teacher.call(x, c, l, null), xt / TrigFlow.SigmaData, TrigFlow.CNoise(t), labels!,
            tensor(guidance, t.dtype, t.device));
        return TrigFlow.SigmaData * f;
    }

    /// <summary>The JVP's tangents at (x_t / sigma_data, c_noise(t)): (cos t sin t dx_t/dt / sigma_data, cos t sin t); t: [B].</summary>
    public static Tensor[] JvpTangents(Tensor t, Tensor dxtDt)
    {
        var cosSin = t.cos() * t.sin();
        return [(cosSin.view(-1, 1, 1, 1) * dxtDt / TrigFlow.SigmaData).detach(), cosSin.detach()];
    }

    /// <summary>
    /// sCD's tangent before normalisation, g = -cos^2(t) (sigma_data F_minus - dx_t/dt) - r cos(t) sin(t) (x_t + sigma_data dF_minus/dt),
    /// which is cos(t) df_minus/dt for r = 1: zero where the student is consistent along the teacher's ODE.
    /// <paramref name="jvp"/> is cos(t) sin(t) dF_minus/dt (see <see cref="Loss"/>); t: [B].
    /// </summary>
    public static Tensor Tangent(Tensor xt, Tensor t, Tensor fMinus, Tensor dxtDt, Tensor jvp, double r)
    {
        var tb = t.view(-1, 1, 1, 1);
        var (cos, sin) = (tb.cos(), tb.sin());
        return -cos.square() * (TrigFlow.SigmaData * fMinus - dxtDt) - r * (cos * sin * xt + TrigFlow.SigmaData * jvp);
    }
}
