using Scm.Network;
using static TorchSharp.torch;

namespace Scm;

/// <summary>
/// TrigFlow (sCM, Sec. 3): x_t = cos(t) x0 + sin(t) z with z ~ N(0, sigma_data^2 I) and t in [0, pi/2].
/// sigma_data is the standard deviation of the data (0.5 for images scaled to [-1, 1]).
/// The PF-ODE is dx_t/dt = sigma_data F(x_t / sigma_data, t), and the consistency function
/// f(x_t, t) = cos(t) x_t - sin(t) sigma_data F(x_t / sigma_data, t) maps any x_t on a trajectory to its x0.
/// </summary>
public static class TrigFlow
{
    public const double SigmaData = 0.5;

    /// <summary>t_max = atan(sigma_max / sigma_data) with sigma_max = 80, EDM's largest noise level.</summary>
    public static readonly double TMax = Math.Atan(80 / SigmaData);

    /// <summary>sCM's default intermediate time for 2-step sampling.</summary>
    public const double DefaultTMid = 1.1;

    /// <summary>c_noise(t) = t: the network sees TrigFlow time directly.</summary>
    public static Tensor CNoise(Tensor t) => t;

    /// <summary>sigma_data F(x_t / sigma_data, t): the PF-ODE velocity dx_t/dt.</summary>
    /// <remarks>Goes through <c>call</c>, not <c>forward</c>, so that forward hooks (evaluation counters, profilers) see it.</remarks>
    public static Tensor Velocity(ScmUNet network, Tensor xt, Tensor t, Tensor? labels, Tensor? guidance) =>
        SigmaData * network.call(xt / SigmaData, CNoise(t), labels, guidance);

    /// <summary>
    /// Classifier-free guidance: F_u + s (F_c - F_u), F_c the prediction for <paramref name="labels"/> and F_u for the
    /// zero label vector (what a teacher trained with label dropout sees for "no class"). One forward pass on
    /// [conditional; unconditional] rather than two: the same work, better CPU utilisation.
    /// </summary>
    /// <param name="network">F(x_t / sigma_data, c_noise(t), labels).</param>
    /// <param name="guidance">The scale s: a scalar or one per sample, broadcastable to F.</param>
    public static Tensor Guided(Func<Tensor, Tensor, Tensor, Tensor> network, Tensor xScaled, Tensor cNoise, Tensor labels, Tensor guidance)
    {
        long batch = xScaled.shape[0];
        var both = network(cat([xScaled, xScaled]), cat([cNoise, cNoise]), cat([labels, zeros_like(labels)]));
        var fc = both.narrow(0, 0, batch);
        var fu = both.narrow(0, batch, batch);
        return fu + guidance * (fc - fu);
    }

    /// <summary>The consistency function f(x_t, t) (t: [B]).</summary>
    public static Tensor Consistency(ScmUNet network, Tensor xt, Tensor t, Tensor? labels, Tensor? guidance) =>
        Denoised(xt, t, Velocity(network, xt, t, labels, guidance));

    /// <summary>
    /// The x0 a velocity v = dx_t/dt implies, cos(t) x_t - sin(t) v (t: [B]): a consistency model's output, and a diffusion
    /// network's x0-prediction.
    /// </summary>
    public static Tensor Denoised(Tensor xt, Tensor t, Tensor velocity)
    {
        var tb = t.view(-1, 1, 1, 1);
        return tb.cos() * xt - tb.sin() * velocity;
    }

    /// <summary>Forward noising: x_t = cos(t) x0 + sin(t) z (z already scaled by sigma_data).</summary>
    public static Tensor Noise(Tensor x0, Tensor z, Tensor t)
    {
        var tb = t.view(-1, 1, 1, 1);
        return tb.cos() * x0 + tb.sin() * z;
    }
}
