using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class TrigFlowTests
{
    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void Consistency_function_is_the_identity_at_t_zero_for_any_network(long seed)
    {
        // f(x, 0) = cos(0) x - sin(0) sigma_data F = x: the boundary condition that makes f a consistency
        // function holds by construction, whatever F's weights are.
        var network = NewNetwork(Tiny(), seed);
        using var scope = NewDisposeScope();
        manual_seed(seed + 100);
        var x = randn(4, 1, 8, 8) * 3;
        var labels = eye(3)[tensor(new long[] { 0, 1, 2, 0 })];
        using var noGrad = no_grad();
        var f = TrigFlow.Consistency(network, x, zeros(4), labels, null);
        Assert.Equal(Floats(x), Floats(f));
    }

    [Fact]
    public void Noise_follows_x_t_equals_cos_t_x0_plus_sin_t_z()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var x0 = rand(3, 1, 4, 4) * 2 - 1;
        var z = randn(3, 1, 4, 4) * TrigFlow.SigmaData;
        double[] times = [0.0, 0.7, TrigFlow.TMax];
        var xt = TrigFlow.Noise(x0, z, tensor(times.Select(t => (float)t).ToArray()));

        var (a, b, actual) = (Floats(x0), Floats(z), Floats(xt));
        int perSample = a.Length / 3;
        for (int i = 0; i < a.Length; i++)
        {
            double t = (float)times[i / perSample];
            Assert.Equal(Math.Cos(t) * a[i] + Math.Sin(t) * b[i], actual[i], 5e-6);
        }
        // t = 0 is clean data exactly.
        Assert.Equal(Floats(x0[0]), Floats(xt[0]));
    }

    [Fact]
    public void Consistency_is_cos_t_x_t_minus_sin_t_times_the_velocity_sigma_data_F()
    {
        var network = NewNetwork(Tiny(), 4);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(6);
        var xt = randn(2, 1, 8, 8);
        var t = tensor(new float[] { 0.3f, 1.2f });
        var labels = eye(3)[tensor(new long[] { 2, 1 })];

        var velocity = TrigFlow.Velocity(network, xt, t, labels, null);
        var expectedVelocity = TrigFlow.SigmaData * network.forward(xt / TrigFlow.SigmaData, t, labels, null);
        Assert.True(MaxAbsDiff(velocity, expectedVelocity) < 1e-6);

        var tb = t.view(-1, 1, 1, 1);
        var expected = tb.cos() * xt - tb.sin() * velocity;
        Assert.True(MaxAbsDiff(TrigFlow.Consistency(network, xt, t, labels, null), expected) < 1e-6);
    }

    /// <summary>
    /// Classifier-free guidance in one batched pass is F_u + s (F_c - F_u) of two separate passes, F_u being the zero
    /// label vector's prediction: s = 1 is the conditional network, s = 0 the unconditional one.
    /// </summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(2.5)]
    public void Guidance_in_one_pass_is_the_unconditional_plus_s_times_the_class_direction(double scale)
    {
        var network = NewNetwork(Tiny(), 8);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(9);
        var x = randn(3, 1, 8, 8);
        var t = tensor(new float[] { 0.2f, 0.9f, 1.5f });
        var labels = eye(3)[tensor(new long[] { 0, 2, 1 })];

        var guided = TrigFlow.Guided((xs, c, l) => network.forward(xs, c, l, null), x, t, labels, tensor(scale));

        var fc = network.forward(x, t, labels, null);
        var fu = network.forward(x, t, zeros_like(labels), null);
        Assert.True(MaxAbsDiff(fc, fu) > 1e-3, "the class must change the prediction, or the test shows nothing");
        Assert.True(MaxAbsDiff(guided, fu + scale * (fc - fu)) < 1e-5);
    }

    [Fact]
    public void With_the_true_velocity_the_consistency_function_recovers_x0_and_the_velocity_is_dx_t_dt()
    {
        // For x_t = cos t x0 + sin t z the trajectory's velocity is v = cos t z - sin t x0, and
        // cos t x_t - sin t v = x0: the parametrisation F is trained towards makes f exact.
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x0 = (rand(2, 1, 4, 4) * 2 - 1).to(float64);
        var z = (randn(2, 1, 4, 4) * TrigFlow.SigmaData).to(float64);
        var t = tensor(new double[] { 0.4, 1.3 });
        var tb = t.view(-1, 1, 1, 1);
        var xt = TrigFlow.Noise(x0, z, t);
        var v = tb.cos() * z - tb.sin() * x0;
        Assert.True(MaxAbsDiff(tb.cos() * xt - tb.sin() * v, x0) < 1e-12);

        double h = 1e-6;
        var derivative = (TrigFlow.Noise(x0, z, t + h) - TrigFlow.Noise(x0, z, t - h)) / (2 * h);
        Assert.True(MaxAbsDiff(derivative, v) < 1e-8);
    }
}
