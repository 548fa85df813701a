using Scm.Network;
using static TorchSharp.torch;

namespace Scm.Training;

/// <summary>
/// How far sCD's finite-difference JVP is from the exact one on a given network, along the tangents training uses
/// (the teacher's velocity at x_t = cos t x0 + sin t z, the time tangent cos t sin t), at fixed t. A finite difference
/// is only checked on the teacher by the tests; a run can make its student rougher, so this measures it on any
/// checkpoint. Also reports rms(g), the size of the network's own inconsistency cos(t) df/dt along the teacher's ODE
/// (r = 1): what sCD drives to zero.
/// </summary>
public static class JvpCheck
{
    /// <param name="T">TrigFlow time.</param>
    /// <param name="JvpError">||JVP_fd - JVP_exact|| / ||JVP_exact|| over the batch.</param>
    /// <param name="TangentError">Mean over samples of ||g_fd - g_exact|| / ||g_exact||.</param>
    /// <param name="TangentCosine">Mean over samples of cos(g_fd, g_exact).</param>
    /// <param name="TangentRms">Root mean square of the exact g (per pixel).</param>
    public sealed record Row(double T, double JvpError, double TangentError, double TangentCosine, double TangentRms);

    /// <summary>
    /// One row per time in <paramref name="times"/>; x0, labels and z (already scaled by sigma_data) are one fixed batch.
    /// <paramref name="teacherGuidance"/> is the scale the run distilled (its card's <c>teacher_guidance</c>; 1 = none):
    /// the check runs along the ODE the run was trained on.
    /// </summary>
    public static IReadOnlyList<Row> Measure(ScmUNet network, ScmUNet teacher, Tensor x0, Tensor labels, Tensor z, IEnumerable<double> times,
        double teacherGuidance = 1, double h = 3e-3)
    {
        double sigmaData = TrigFlow.SigmaData;
        var rows = new List<Row>();
        foreach (double time in times)
        {
            using var scope = NewDisposeScope();
            var t = full([x0.shape[0]], time, dtype: x0.dtype, device: x0.device);
            var xt = TrigFlow.Noise(x0, z, t);
            Tensor dxtDt;
            using (no_grad()) dxtDt = ScdTrainer.TeacherVelocity(teacher, xt, t, labels, teacherGuidance);
            var tangents = ScdTrainer.JvpTangents(t, dxtDt);
            var xIn = (xt / sigmaData).detach().requires_grad_(true);
            var tIn = TrigFlow.CNoise(t).detach().requires_grad_(true);
            var f = network.forward(xIn, tIn, labels, null);
            var exact = Jvp.Compute(f, [xIn, tIn], tangents).detach();
            var fMinus = f.detach();
            var approximate = Jvp.FiniteDifference(inputs => network.forward(inputs[0], inputs[1], labels, null), [xIn.detach(), tIn.detach()], tangents, h);
            var gExact = ScdTrainer.Tangent(xt, t, fMinus, dxtDt, exact, r: 1).flatten(1);
            var gApproximate = ScdTrainer.Tangent(xt, t, fMinus, dxtDt, approximate, r: 1).flatten(1);
            rows.Add(new Row(
                time,
                ((approximate - exact).norm() / exact.norm()).item<float>(),
                ((gApproximate - gExact).norm(dim: 1) / gExact.norm(dim: 1)).mean().item<float>(),
                nn.functional.cosine_similarity(gApproximate, gExact).mean().item<float>(),
                gExact.square().mean().sqrt().item<float>()));
        }
        return rows;
    }
}
