using Scm.Checkpoints;
using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

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
    protected override string? TeacherCard => scd.TeacherCardPath;
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
