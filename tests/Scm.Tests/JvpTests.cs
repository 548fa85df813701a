using Scm.Network;
using Scm.Training;
using TorchSharp;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>
/// sCD's tangent needs dF/dt along the PF-ODE, a JVP of F in (x, t). TorchSharp has no forward-mode AD, so
/// <see cref="Jvp"/> uses double backward; these tests hold it against central finite differences.
/// </summary>
public class JvpTests(ITestOutputHelper output)
{
    /// <summary>
    /// The JVP of <paramref name="network"/> in <paramref name="dtype"/> at (x, t) along (vx, vt), against a central
    /// difference with step h computed by <paramref name="reference"/> (the same weights, possibly in float64).
    /// </summary>
    static (double RelativeError, double Norm) CompareWithFiniteDifferences(ScmUNet network, ScalarType dtype, ScmUNet reference, ScalarType referenceDtype, double h)
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        var x = randn(3, 1, 8, 8, dtype: float64);
        var t = tensor(new[] { 0.2, 0.9, 1.4 });
        var labels = eye(3, dtype: float64)[tensor(new long[] { 0, 2, 1 })];
        var vx = randn(3, 1, 8, 8, dtype: float64);
        var vt = tensor(new[] { 0.5, -1.0, 0.3 });

        var xIn = x.to(dtype).requires_grad_(true);
        var tIn = t.to(dtype).requires_grad_(true);
        var y = network.forward(xIn, tIn, labels.to(dtype), null);
        var jvp = Jvp.Compute(y, [xIn, tIn], [vx.to(dtype), vt.to(dtype)]).to(float64);

        Tensor F(Tensor xs, Tensor ts) => network == reference && dtype == referenceDtype
            ? network.forward(xs.to(dtype), ts.to(dtype), labels.to(dtype), null).to(float64)
            : reference.forward(xs.to(referenceDtype), ts.to(referenceDtype), labels.to(referenceDtype), null).to(float64);
        Tensor finiteDifference;
        using (no_grad())
            finiteDifference = (F(x + h * vx, t + h * vt) - F(x - h * vx, t - h * vt)) / (2 * h);
        double norm = finiteDifference.norm().item<double>();
        return ((jvp - finiteDifference).norm().item<double>() / norm, norm);
    }

    [Fact]
    public void Jvp_matches_central_finite_differences_in_float64()
    {
        var network = NewNetwork(Tiny(), seed: 12);
        network.to(float64);
        // F oscillates in t with frequencies up to 100 (the time embedding), so the step must be small:
        // truncation ~ h^2 100^3 / 6, round-off ~ 1e-16 / h.
        var (error, norm) = CompareWithFiniteDifferences(network, float64, network, float64, 1e-6);
        output.WriteLine($"float64 JVP vs float64 central differences: relative error {error:E2} (|J v| = {norm:F3})");
        Assert.True(norm > 1e-3, "the JVP should not be trivially zero");
        Assert.True(error < 1e-6, $"relative error {error}");
    }

    [Fact]
    public void Float32_jvp_matches_central_finite_differences_to_1e_3()
    {
        // Float32 differences can't resolve frequency-100 features (truncation and round-off can't both be small),
        // so the float32 JVP is held against differences of the same weights in float64.
        var network = NewNetwork(Tiny(), seed: 12);
        var reference = NewNetwork(Tiny(), seed: 12);
        reference.to(float64);
        var (error, norm) = CompareWithFiniteDifferences(network, float32, reference, float64, 1e-6);
        output.WriteLine($"float32 JVP vs float64 central differences: relative error {error:E2} (|J v| = {norm:F3})");
        Assert.True(error < 1e-3, $"relative error {error}");

        // All-float32 differences work once F is smooth in t (a low-frequency time embedding).
        var smooth = NewNetwork(Tiny() with { TimeEmbeddingMaxFrequency = 4 }, seed: 12);
        var (smoothError, _) = CompareWithFiniteDifferences(smooth, float32, smooth, float32, 3e-3);
        output.WriteLine($"float32 JVP vs float32 central differences (max frequency 4): relative error {smoothError:E2}");
        Assert.True(smoothError < 1e-3, $"relative error {smoothError}");
    }

    [Fact]
    public void Finite_difference_jvp_agrees_with_the_double_backward_jvp_on_a_smooth_network()
    {
        using var scope = NewDisposeScope();
        var network = NewNetwork(Tiny() with { TimeEmbeddingMaxFrequency = 4 }, seed: 21);
        manual_seed(22);
        var x = randn(4, 1, 8, 8);
        var t = tensor(new[] { 0.1f, 0.6f, 1.1f, 1.5f });
        var labels = eye(3)[tensor(new long[] { 0, 1, 2, 1 })];
        Tensor[] tangents = [randn(4, 1, 8, 8), tensor(new[] { 0.5f, -0.2f, 0.3f, 0.05f })];
        var xIn = x.requires_grad_(true);
        var tIn = t.requires_grad_(true);
        var exact = Jvp.Compute(network.forward(xIn, tIn, labels, null), [xIn, tIn], tangents);
        var approximate = Jvp.FiniteDifference(inputs => network.forward(inputs[0], inputs[1], labels, null), [x.detach(), t.detach()], tangents);
        double error = ((approximate - exact).norm() / exact.norm()).item<float>();
        output.WriteLine($"finite-difference vs double-backward JVP (float32, h = 3e-3): relative error {error:E2}");
        Assert.True(error < 5e-3, $"relative error {error}");
    }

    /// <summary>The upwind difference is first order: its error against the exact JVP falls about in proportion to h.</summary>
    [Fact]
    public void Backward_difference_jvp_approaches_the_exact_jvp_at_first_order()
    {
        using var scope = NewDisposeScope();
        var network = NewNetwork(Tiny() with { TimeEmbeddingMaxFrequency = 4 }, seed: 23).to(float64);
        manual_seed(24);
        var x = randn(4, 1, 8, 8, dtype: float64);
        var t = tensor(new[] { 0.1, 0.6, 1.1, 1.5 });
        var labels = eye(3, dtype: float64)[tensor(new long[] { 0, 1, 2, 1 })];
        Tensor[] tangents = [randn(4, 1, 8, 8, dtype: float64), tensor(new[] { 0.5, -0.2, 0.3, 0.05 })];
        var (xIn, tIn) = (x.requires_grad_(true), t.requires_grad_(true));
        var exact = Jvp.Compute(network.forward(xIn, tIn, labels, null), [xIn, tIn], tangents);
        Tensor F(Tensor[] inputs) => network.forward(inputs[0], inputs[1], labels, null);
        using var noGrad = no_grad();
        var atInputs = F([x.detach(), t.detach()]);
        double Error(double h) => ((Jvp.Backward(F, [x.detach(), t.detach()], tangents, atInputs, h) - exact).norm() / exact.norm()).item<double>();
        var (coarse, fine) = (Error(0.04), Error(0.01));
        output.WriteLine($"backward-difference vs exact JVP (float64): relative error {coarse:E2} at h = 0.04, {fine:E2} at h = 0.01");
        Assert.True(fine < 0.05, $"relative error {fine} at h = 0.01");
        Assert.InRange(coarse / fine, 2.5, 6); // first order: 4x the step, ~4x the error (a central difference gives ~16x)
        Assert.Throws<ArgumentOutOfRangeException>(() => Jvp.Backward(F, [x, t], tangents, atInputs, 0));
    }

    [Fact]
    public void Jvp_of_a_linear_map_is_the_map_applied_to_the_tangent()
    {
        using var scope = NewDisposeScope();
        manual_seed(14);
        var a = randn(5, 4, dtype: float64);
        var x = randn(4, dtype: float64).requires_grad_(true);
        var v = randn(4, dtype: float64);
        var y = a.matmul(x.square()); // J = A diag(2x)
        var jvp = Jvp.Compute(y, [x], [v]);
        Assert.True(MaxAbsDiff(jvp, a.matmul(2 * x.detach() * v)) < 1e-12);
        // The graph of y is kept: a second JVP along another tangent still works.
        var jvp2 = Jvp.Compute(y, [x], [2 * v]);
        Assert.True(MaxAbsDiff(jvp2, 2 * jvp) < 1e-12);
    }

    /// <summary>
    /// JvpCheck (behind `scm-tools train inspect`) on a tiny random student and teacher: the finite difference's error is
    /// small and g's cosine near 1; with a step far too large for float32 detail, the error it reports grows.
    /// </summary>
    [Fact]
    public void JvpCheck_reports_a_small_error_for_the_training_step_and_a_larger_one_for_a_coarse_step()
    {
        using var scope = NewDisposeScope();
        var config = Tiny(numClasses: 3);
        var (student, teacher) = (NewNetwork(config, seed: 3), NewNetwork(config, seed: 4));
        manual_seed(15);
        var x0 = rand(4, 1, 8, 8) * 2 - 1;
        var labels = eye(3)[tensor(new long[] { 0, 1, 2, 0 })];
        var z = randn(4, 1, 8, 8) * TrigFlow.SigmaData;
        double[] times = [0.3, 0.9, 1.4];
        var fine = JvpCheck.Measure(student, teacher, x0, labels, z, times);
        var coarse = JvpCheck.Measure(student, teacher, x0, labels, z, times, h: 0.5);
        foreach (var (f, c) in fine.Zip(coarse))
        {
            output.WriteLine($"t {f.T}: JVP error {f.JvpError:E2} (h = 0.5: {c.JvpError:E2}), g error {f.TangentError:E2}, cos {f.TangentCosine:F6}, rms(g) {f.TangentRms:F3}");
            Assert.True(f.JvpError < 1e-2 && f.TangentError < 1e-2 && f.TangentCosine > 0.9999, $"t {f.T}");
            Assert.True(c.JvpError > 10 * f.JvpError, $"t {f.T}: a coarse step should show a larger error");
            Assert.True(f.TangentRms > 0 && double.IsFinite(f.TangentRms));
        }
        Assert.Equal(times, fine.Select(r => r.T));
    }

    [Fact]
    public void Bad_arguments_throw_before_reaching_autograd_which_would_abort_the_process()
    {
        using var scope = NewDisposeScope();
        var x = randn(3).requires_grad_(true);
        var y = x * 2;
        Assert.Throws<ArgumentException>(() => Jvp.Compute(y, [x], [randn(4)]));
        Assert.Throws<ArgumentException>(() => Jvp.Compute(y, [x], []));
        Assert.Throws<ArgumentException>(() => Jvp.Compute(y, [randn(3)], [randn(3)]));
    }
}
