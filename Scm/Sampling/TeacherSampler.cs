using Scm.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>
/// Deterministic PF-ODE sampler for the TrigFlow diffusion teacher: DPM-Solver++(2M) (Lu et al. 2022) in
/// data-prediction form. In VP terms TrigFlow has alpha_t = cos t, sigma_t = sin t, half-log-SNR
/// lambda_t = log(alpha_t / sigma_t) = -log tan t, and the data prediction is the teacher's denoiser
///   x0_hat(x_t, t) = cos t x_t - sin t sigma_data F(x_t / sigma_data, t)   (= TrigFlow.Consistency).
/// From t_{i-1} to t_i, with h_i = lambda_{t_i} - lambda_{t_{i-1}}:
///   x_{t_i} = (sigma_{t_i} / sigma_{t_{i-1}}) x_{t_{i-1}} - alpha_{t_i} (e^{-h_i} - 1) D_i,
/// D_i = x0_hat_{i-1} on the first step (DDIM) and the multistep extrapolation
/// (1 + 1/(2 r_i)) x0_hat_{i-1} - 1/(2 r_i) x0_hat_{i-2}, r_i = h_{i-1} / h_i, afterwards. The last step, to t = 0
/// (lambda = infinity), is first order: it returns the last x0_hat. One network evaluation per grid time, so
/// any NFE works (1 = a single denoising from t_max).
///
/// The starting point is sigma_data times step 0 of each spec's noise stream: exactly the z from which
/// <see cref="ConsistencySampler"/> starts, so teacher and student are compared on the same noise.
///
/// Classifier-free guidance: a spec with Guidance = s != 1 uses F = F_u + s (F_c - F_u), F_u being the
/// prediction for the zero label vector (the teacher was trained with label dropout). That costs a second
/// network evaluation per grid time; <see cref="NetworkEvaluations"/> counts both. If any spec of a request is
/// guided, the whole request takes the guided path (guidance 1 then gives F_c up to round-off).
///
/// Like <see cref="ConsistencySampler"/>, the network runs on fixed chunks of <see cref="ComputeBatch"/> samples
/// (the last padded with copies of its last spec), so a frame's floats do not depend on the batch it is in.
/// </summary>
public sealed class TeacherSampler
{
    /// <summary>F(x_t / sigma_data, c_noise(t), labels) of a diffusion network (tests substitute analytic ones).</summary>
    internal delegate Tensor VelocityNetwork(Tensor xScaled, Tensor cNoise, Tensor? labels);

    public const int DefaultComputeBatch = ConsistencySampler.DefaultComputeBatch;

    readonly VelocityNetwork network;
    readonly long[] sampleShape;
    readonly int numClasses;
    readonly Device device;

    public TeacherSampler(ScmUNet network, Device device, int computeBatch = DefaultComputeBatch)
        // call, not forward: forward hooks (evaluation counters, profilers) must see every evaluation.
        : this((x, t, labels) => network.call(x, t, labels, null),
            [network.Config.ImageChannels, network.Config.Resolution, network.Config.Resolution], network.Config.NumClasses, device, computeBatch)
    {
        if (network.Config.GuidanceEmbedding)
            throw new ArgumentException("A network with a guidance embedding is a distilled student, not a diffusion teacher.", nameof(network));
    }

    internal TeacherSampler(VelocityNetwork network, long[] sampleShape, int numClasses, Device device, int computeBatch = DefaultComputeBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(computeBatch, 1);
        this.network = network;
        this.sampleShape = sampleShape;
        this.numClasses = numClasses;
        this.device = device;
        ComputeBatch = computeBatch;
    }

    /// <summary>Samples per network evaluation (doubled under guidance). A different value gives different bits.</summary>
    public int ComputeBatch { get; }

    public long[] SampleShape => sampleShape;

    /// <summary>
    /// Network evaluations per requested image: the schedule's NFE, doubled when any spec is guided. (Padding
    /// the last compute chunk costs extra work that no image is charged for.)
    /// </summary>
    public static int NetworkEvaluations(TeacherSchedule schedule, IReadOnlyList<SampleSpec> specs) =>
        schedule.Nfe * (IsGuided(specs) ? 2 : 1);

    /// <summary>Samples a batch. Returns a CPU float tensor [B, C, H, W] in [-1, 1]; the caller disposes it.</summary>
    public Tensor Sample(IReadOnlyList<SampleSpec> specs, TeacherSchedule schedule, CancellationToken cancellationToken = default)
    {
        using var scope = NewDisposeScope();
        return Solve(specs, schedule, cancellationToken).clamp(-1, 1).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>The unclamped ODE solution at t = 0 on the sampler's device; the caller disposes it.</summary>
    internal Tensor Solve(IReadOnlyList<SampleSpec> specs, TeacherSchedule schedule, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(specs.Count, nameof(specs));
        SampleLabels.Validate(specs, numClasses);
        bool guided = IsGuided(specs);
        if (guided && numClasses == 0) throw new ArgumentException("Classifier-free guidance needs a class-conditional teacher; this one is unconditional.");
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        return ComputeChunks.Run(specs, ComputeBatch, chunk => SolveChunk(chunk, schedule, guided, cancellationToken)).MoveToOuterDisposeScope();
    }

    /// <summary>One compute chunk through the whole solver.</summary>
    Tensor SolveChunk(IReadOnlyList<SampleSpec> specs, TeacherSchedule schedule, bool guided, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var labels = SampleLabels.Batch(specs, numClasses, device);
        var guidance = guided ? tensor(specs.Select(s => (float)s.Guidance).ToArray()).view(-1, 1, 1, 1).to(device) : null;

        var x = TrigFlow.SigmaData * NoiseBank.StandardNormal(specs, 0, sampleShape).to(device);
        Tensor? previousX0 = null;
        double previousH = 0;
        var times = schedule.Times;
        for (int i = 0; i < times.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Each step's activations are freed with its scope; only x and x0_hat move out (they are small).
            using var step = NewDisposeScope();
            double t = times[i], next = i + 1 < times.Count ? times[i + 1] : 0;
            var x0 = DataPrediction(x, t, labels, guidance);
            if (next == 0)
            {
                x = x0.MoveToOuterDisposeScope();
                break;
            }
            double h = Lambda(next) - Lambda(t);
            var d = x0;
            if (previousX0 is not null)
            {
                double r = previousH / h;
                d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * previousX0;
            }
            x = (Math.Sin(next) / Math.Sin(t) * x - Math.Cos(next) * double.ExpM1(-h) * d).MoveToOuterDisposeScope();
            previousX0 = x0.MoveToOuterDisposeScope();
            previousH = h;
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>lambda_t = log(cos t / sin t), the half log signal-to-noise ratio of x_t.</summary>
    static double Lambda(double t) => Math.Log(Math.Cos(t) / Math.Sin(t));

    /// <summary>x0_hat = cos t x - sin t sigma_data F, with F guided where a spec asks for it.</summary>
    Tensor DataPrediction(Tensor x, double t, Tensor? labels, Tensor? guidance)
    {
        var xScaled = x / TrigFlow.SigmaData;
        var cNoise = TrigFlow.CNoise(full(x.shape[0], t, float32, device));
        var f = guidance is null
            ? network(xScaled, cNoise, labels)
            : TrigFlow.Guided((xs, c, l) => network(xs, c, l), xScaled, cNoise, labels!, guidance);
        return Math.Cos(t) * x - Math.Sin(t) * TrigFlow.SigmaData * f;
    }

    static bool IsGuided(IReadOnlyList<SampleSpec> specs) => specs.Any(s => s.Guidance != 1.0);
}
