using Scm.Network;
using Scm.Sampling;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>A network run at 16 bits (`--precision`): float32 in and out, close to float32, and still batch-independent.</summary>
public class NetworkPrecisionTests
{
    static List<SampleSpec> Specs(int count) => Enumerable.Range(0, count).Select(i => SampleSpec.Image(5, i, i % 3, 3)).ToList();

    [Theory]
    [InlineData(NetworkPrecision.BFloat16, 0.05)]
    [InlineData(NetworkPrecision.Float16, 0.01)]
    public void A_16_bit_network_takes_and_returns_float32_and_stays_close_to_float32(NetworkPrecision precision, double tolerance)
    {
        using var scope = NewDisposeScope();
        var reference = NewNetwork(Tiny(), seed: 31);
        var reduced = NewNetwork(Tiny(), seed: 31).RunAt(precision);
        Assert.Equal(precision.ScalarType(), reduced.Dtype);
        Assert.All(reduced.parameters(), p => Assert.Equal(precision.ScalarType(), p.dtype));
        manual_seed(32);
        var x = randn(6, 1, 8, 8);
        var t = tensor(new[] { 0.05f, 0.4f, 0.8f, 1.1f, 1.4f, 1.56f });
        var labels = eye(3)[tensor(new long[] { 0, 1, 2, 0, 1, 2 })];
        using var noGrad = no_grad();
        var exact = reference.forward(x, t, labels, null);
        var approximate = reduced.forward(x, t, labels, null);
        Assert.Equal(ScalarType.Float32, approximate.dtype);
        double error = ((approximate - exact).norm() / exact.norm()).item<float>();
        Assert.True(error < tolerance, $"{precision}: relative error {error} against float32");
    }

    [Fact]
    public void Bfloat16_samples_are_float32_and_do_not_depend_on_the_batch_they_are_sampled_in()
    {
        var network = NewNetwork(Tiny(), seed: 33).RunAt(NetworkPrecision.BFloat16);
        var sampler = new ConsistencySampler(network, CPU, computeBatch: 4);
        var specs = Specs(10);
        using var all = sampler.Sample(specs, SamplingSchedule.ForSteps(2));
        using var some = sampler.Sample(specs.Skip(3).Take(2).ToList(), SamplingSchedule.ForSteps(2));
        Assert.Equal(ScalarType.Float32, all.dtype);
        Assert.Equal(0, MaxAbsDiff(all.narrow(0, 3, 2), some)); // bit for bit: chunks are padded to the same size
        var reference = new ConsistencySampler(NewNetwork(Tiny(), seed: 33), CPU, computeBatch: 4);
        using var exact = reference.Sample(specs, SamplingSchedule.ForSteps(2));
        Assert.InRange(MaxAbsDiff(all, exact), 1e-6, 0.2); // another precision: other bits, nearby values
    }
}
