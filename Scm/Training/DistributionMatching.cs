using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>Options of sCD's distribution-matching regulariser (<see cref="DistributionMatching"/>); off unless given.</summary>
public sealed record DistributionMatchingOptions
{
    /// <summary>lambda: the weight of the distribution-matching loss next to sCD's.</summary>
    public double Weight { get; init; } = 1.0;
    /// <summary>The first iteration of the regulariser (its fake-score network starts learning here).</summary>
    public long From { get; init; }
    /// <summary>Adam's rate for the fake-score network.</summary>
    public double FakeLearningRate { get; init; } = 1e-4;
    /// <summary>Fake-score updates per iteration (DMD2's two time-scale rule uses 5; each costs a forward and a backward pass).</summary>
    public int FakeUpdates { get; init; } = 1;

    public void Validate()
    {
        if (!(Weight > 0 && double.IsFinite(Weight))) throw new ArgumentOutOfRangeException(nameof(Weight), $"--dmd-weight must be a finite number > 0; got {Weight}.");
        if (From < 0) throw new ArgumentOutOfRangeException(nameof(From), $"--dmd-from must be >= 0; got {From}.");
        if (!(FakeLearningRate > 0 && double.IsFinite(FakeLearningRate)))
            throw new ArgumentOutOfRangeException(nameof(FakeLearningRate), $"--dmd-fake-lr must be a finite number > 0; got {FakeLearningRate}.");
        if (FakeUpdates is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(FakeUpdates), $"--dmd-fake-updates must be in [1, 16]; got {FakeUpdates}.");
    }
}

/// <summary>
/// Distribution matching as a regulariser of sCD (rCM, Zheng et al. 2025, arXiv 2510.08431, after DMD / DMD2, Yin et al.
/// 2024). sCD makes the student consistent along the teacher's ODE, a local condition learnt from the teacher's tangents
/// alone; its errors accumulate where the map is hardest (the 1-step, at t_max), whose samples are blurred towards the
/// class mean, and the 2-step carries that through (docs/MODEL-ABLATIONS.md). Distribution matching looks at the student's
/// own samples x instead: noised to x_t = cos(t) x + sin(t) sigma_data eps, the teacher's denoiser D_real(x_t, t) pulls them
/// towards the data and a "fake score" denoiser D_fake, trained alongside on the student's samples with the teacher's
/// diffusion loss, pulls them towards what the student makes now; their difference is the gradient of a KL divergence
/// between the two distributions (noised), so
///   grad = (D_fake - D_real) / mean|x - D_real|   (DMD's per-sample normalisation),
///   L_dm = lambda * mean (x - stopgrad(x - grad))^2 / 2,   whose gradient with respect to x is lambda * grad / numel.
/// The samples are half 1-step (from noise at t_max) and half 2-step (the first step without gradient, re-noised to the model's t_mid),
/// the two samplers the cluster serves. D(x_t, t) = cos(t) x_t - sin(t) sigma_data F(x_t / sigma_data, t) is a diffusion
/// network's x0-prediction (<see cref="TrigFlow.Denoised"/>).
/// </summary>
public sealed class DistributionMatching
{
    /// <summary>
    /// Iterations in which only the fake-score network learns: it starts as the teacher (so D_fake = D_real and the
    /// gradient is 0) and must first learn what the student makes before its difference from the teacher means anything.
    /// </summary>
    public const int HeadStart = 100;
    /// <summary>The noise levels of the matching: t uniform in [0.1, 1.5] (sigma / sigma_data from 0.1 to 14).</summary>
    const double MinTime = 0.1, MaxTime = 1.5;

    readonly DistributionMatchingOptions options;
    readonly Func<Tensor, Tensor, Tensor, Tensor> teacherVelocity;
    readonly Func<long[], Generator, Tensor> normal;
    readonly Func<Generator, Tensor> diffusionTime;
    readonly double tMid;
    /// <summary>The last <see cref="Loss"/>'s samples (detached) and labels, for <see cref="UpdateFakeScore(Generator)"/>.</summary>
    (Tensor Samples, Tensor Labels)? pending;

    /// <param name="teacherVelocity">(x_t, t, labels) -> dx_t/dt of the teacher (guided as sCD's tangents are).</param>
    /// <param name="fakeScore">The fake-score network, on the training device; the caller initialises it (as the teacher).</param>
    /// <param name="normal">Standard normal draws of a shape, on the training device.</param>
    /// <param name="diffusionTime">The training's time proposal, for the fake score's diffusion loss.</param>
    /// <param name="tMid">The 2-step samples' intermediate time (the model's).</param>
    public DistributionMatching(DistributionMatchingOptions options, Func<Tensor, Tensor, Tensor, Tensor> teacherVelocity, ScmUNet fakeScore,
        Func<long[], Generator, Tensor> normal, Func<Generator, Tensor> diffusionTime, double tMid)
    {
        options.Validate();
        this.options = options;
        this.tMid = tMid;
        this.teacherVelocity = teacherVelocity;
        this.normal = normal;
        this.diffusionTime = diffusionTime;
        FakeScore = fakeScore;
        FakeScore.train();
        FakeOptimizer = optim.Adam(FakeScore.parameters(), lr: options.FakeLearningRate, beta1: 0.9, beta2: 0.99);
    }

    public ScmUNet FakeScore { get; }
    /// <summary>The fake score's optimizer; the run saves its moments beside the fake score's weights.</summary>
    public optim.Optimizer FakeOptimizer { get; }

    public bool ActiveAt(long iteration) => iteration >= options.From;

    /// <summary>
    /// The regulariser's loss for <paramref name="iteration"/> (0 before its start and during the fake score's head start).
    /// Differentiable in the student's parameters only. The samples are kept for the fake score's update(s), which come
    /// after the student's step (<see cref="UpdateFakeScore"/>): no other backward pass runs while the student's graph is alive.
    /// </summary>
    public Tensor Loss(ScmUNet student, Tensor labels, long iteration, Generator generator)
    {
        var samples = StudentSamples(student, labels, generator);
        pending = (samples.detach(), labels);
        if (iteration < options.From + HeadStart) return zeros([], samples.dtype, samples.device);

        var x = samples.detach();
        var t = rand([x.shape[0]], generator: generator, device: CPU).to(x.dtype, x.device) * (MaxTime - MinTime) + MinTime;
        var xt = TrigFlow.Noise(x, normal(x.shape, generator) * TrigFlow.SigmaData, t);
        Tensor gradient;
        using (no_grad())
        {
            FakeScore.eval();
            var real = TrigFlow.Denoised(xt, t, teacherVelocity(xt, t, labels));
            var fake = TrigFlow.Consistency(FakeScore, xt, t, labels, null);
            var normalizer = (x - real).abs().mean([1, 2, 3], keepdim: true).clamp_min(1e-4);
            gradient = (fake - real) / normalizer;
            FakeScore.train();
        }
        return options.Weight * 0.5 * (samples - (x - gradient)).square().mean();
    }

    /// <summary>Half the batch sampled in 1 step, half in 2 (the first of them without gradient); labels as given.</summary>
    Tensor StudentSamples(ScmUNet student, Tensor labels, Generator generator)
    {
        long batch = labels.shape[0], oneStep = (batch + 1) / 2, twoStep = batch - oneStep;
        var shape = new[] { batch, (long)student.Config.ImageChannels, student.Config.Resolution, student.Config.Resolution };
        var xMax = normal(shape, generator) * TrigFlow.SigmaData;
        var tMax = full(batch, TrigFlow.TMax, xMax.dtype, xMax.device);
        var first = TrigFlow.Consistency(student, xMax.narrow(0, 0, oneStep), tMax.narrow(0, 0, oneStep), labels.narrow(0, 0, oneStep), null);
        if (twoStep == 0) return first;
        Tensor middle;
        using (no_grad())
            middle = TrigFlow.Consistency(student, xMax.narrow(0, oneStep, twoStep), tMax.narrow(0, oneStep, twoStep), labels.narrow(0, oneStep, twoStep), null);
        var tMiddle = full(twoStep, tMid, xMax.dtype, xMax.device);
        var renoised = TrigFlow.Noise(middle, normal(middle.shape, generator) * TrigFlow.SigmaData, tMiddle);
        var second = TrigFlow.Consistency(student, renoised, tMiddle, labels.narrow(0, oneStep, twoStep), null);
        return cat([first, second]);
    }

    /// <summary>
    /// The fake score's update(s) on the samples of the last <see cref="Loss"/> (none if it was not called): steps of the
    /// teacher's diffusion loss on the student's samples, so that the fake score follows the student. Returns how many
    /// of them were skipped because their gradient was not finite (<see cref="GradientGuard"/>).
    /// </summary>
    public int UpdateFakeScore(Generator generator)
    {
        if (pending is not var (samples, labels)) return 0;
        pending = null;
        int skipped = 0;
        for (int k = 0; k < options.FakeUpdates; k++)
            if (!UpdateFakeScore(samples, labels, generator)) skipped++;
        return skipped;
    }

    /// <summary>One step of the fake score's diffusion loss; false if it was skipped (gradient not finite).</summary>
    bool UpdateFakeScore(Tensor samples, Tensor labels, Generator generator)
    {
        FakeOptimizer.zero_grad();
        var t = diffusionTime(generator);
        var z = normal(samples.shape, generator) * TrigFlow.SigmaData;
        TeacherTrainer.DiffusionLoss(FakeScore, samples, z, t, labels).backward();
        if (!GradientGuard.ClipOrSkip(FakeScore.parameters(), 1.0)) return false;
        FakeOptimizer.step();
        return true;
    }
}
