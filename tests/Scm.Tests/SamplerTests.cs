using Scm.Network;
using Scm.Sampling;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

public class SamplerTests
{
    static List<SampleSpec> Specs(int count, int numClasses = 3) =>
        Enumerable.Range(0, count).Select(i => SampleSpec.Image(11, i, i % numClasses, numClasses)).ToList();

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 1, 2)]
    [InlineData(10, 3, 2)] // more than one compute chunk
    [InlineData(2, 3, 5)]
    public void Output_is_a_cpu_float_batch_of_the_sample_shape_within_minus_one_and_one(int batch, int imageChannels, int steps)
    {
        var network = NewNetwork(Tiny(imageChannels: imageChannels));
        var sampler = new ConsistencySampler(network, CPU);
        using var x = sampler.Sample(Specs(batch), SamplingSchedule.ForSteps(steps));
        Assert.Equal([batch, imageChannels, 8, 8], x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(TorchSharp.DeviceType.CPU, x.device_type);
        var values = Floats(x);
        Assert.All(values, v => Assert.True(float.IsFinite(v) && v is >= -1 and <= 1));
        Assert.True(values.Distinct().Count() > values.Length / 4, "samples should not be constant");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 1, 2)]
    [InlineData(5, 4, 5)]
    [InlineData(2, 8, 2)]  // exactly one chunk
    [InlineData(2, 9, 4)]  // two chunks: every step runs once per chunk
    [InlineData(3, 20, 9)]
    public void The_network_is_evaluated_once_per_step_and_compute_chunk_at_the_schedule_times(int steps, int batch, int expectedEvaluations)
    {
        var network = NewNetwork(Tiny());
        var sampler = new ConsistencySampler(network, CPU, computeBatch: 8);
        var schedule = SamplingSchedule.ForSteps(steps);
        var seen = new List<(long Batch, float[] Times)>();
        var hook = network.register_forward_pre_hook((module, x, cNoise, labels, guidance) =>
        {
            seen.Add((x.shape[0], Floats(cNoise)));
            return null;
        });
        try
        {
            sampler.Sample(Specs(batch), schedule).Dispose();
        }
        finally
        {
            hook.remove();
        }
        Assert.Equal(expectedEvaluations, seen.Count);
        Assert.All(seen, s => Assert.Equal(8, s.Batch));
        // Chunk by chunk, each runs the whole schedule: t_max first, then the intermediate times.
        for (int i = 0; i < seen.Count; i++)
            Assert.All(seen[i].Times, t => Assert.Equal((float)schedule.Times[i % steps], t));
    }

    [Fact]
    public void Default_schedules_start_at_t_max_and_use_the_papers_t_mid_for_two_steps()
    {
        Assert.Equal([TrigFlow.TMax], SamplingSchedule.ForSteps(1).Times);
        Assert.Equal([TrigFlow.TMax, 1.1], SamplingSchedule.ForSteps(2).Times);
        var four = SamplingSchedule.ForSteps(4).Times;
        Assert.Equal(4, four.Count);
        Assert.Equal(TrigFlow.TMax, four[0]);
        Assert.Equal(1.1, four[1], 12);
        Assert.Equal(0.2, four[3], 12);
        Assert.True(four.Zip(four.Skip(1)).All(p => p.First > p.Second));
        Assert.Equal(Math.Atan(160), TrigFlow.TMax, 12); // atan(sigma_max / sigma_data) = atan(80 / 0.5)
    }

    /// <summary>A model card's t_mid replaces 1.1 as the default (2 steps, and the top of the N-step spacing); given times still win.</summary>
    [Fact]
    public void A_model_cards_t_mid_is_the_default_and_given_times_override_it()
    {
        Assert.Equal([TrigFlow.TMax, 0.6], SamplingSchedule.ForSteps(2, tMid: 0.6).Times);
        var three = SamplingSchedule.ForSteps(3, tMid: 0.3).Times;
        Assert.Equal(0.3, three[1], 12);
        Assert.Equal(0.15, three[2], 12); // the spacing ends at min(0.2, t_mid / 2): still decreasing
        Assert.Equal([TrigFlow.TMax, 0.9], SamplingSchedule.ForSteps(2, [0.9], tMid: 0.6).Times);
        Assert.Equal(SamplingSchedule.ForSteps(5).Times, SamplingSchedule.ForSteps(5, tMid: TrigFlow.DefaultTMid).Times);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(SamplingSchedule.MaxSteps + 1)]
    public void Steps_out_of_range_are_rejected_naming_steps(int steps)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SamplingSchedule.ForSteps(steps));
        Assert.Equal("steps", e.ParamName);
        Assert.Contains($"steps must be in [1, {SamplingSchedule.MaxSteps}]", e.Message);
    }

    [Fact]
    public void A_wrong_number_of_intermediate_times_is_rejected_naming_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => SamplingSchedule.ForSteps(3, [1.0]));
        Assert.Equal("intermediateTimes", e.ParamName);
        Assert.Contains("steps - 1 = 2", e.Message);
        Assert.Contains("got 1", e.Message);
    }

    [Theory]
    [InlineData(0.5, 0.9)]       // increasing
    [InlineData(0.9, 0.9)]       // equal
    [InlineData(1.6, 0.5)]       // first is not below t_max
    [InlineData(0.9, 0.0)]       // t = 0 is not an intermediate time
    [InlineData(0.9, double.NaN)]
    public void Intermediate_times_that_do_not_decrease_strictly_inside_zero_t_max_are_rejected(double first, double second)
    {
        var e = Assert.Throws<ArgumentException>(() => SamplingSchedule.ForSteps(3, [first, second]));
        Assert.Equal("intermediateTimes", e.ParamName);
        Assert.Contains("must decrease strictly", e.Message);
    }

    [Fact]
    public void A_label_of_the_wrong_length_is_rejected_naming_the_sample()
    {
        var sampler = new ConsistencySampler(NewNetwork(Tiny()), CPU);
        var specs = Specs(10);
        specs[9] = SampleSpec.Image(1, 9, 0, numClasses: 5);
        var e = Assert.Throws<ArgumentException>(() => sampler.Sample(specs, SamplingSchedule.ForSteps(1)).Dispose());
        Assert.Contains("sample 9 has 5 entries; the model has 3 classes", e.Message);
    }

    [Fact]
    public void Guidance_needs_a_guidance_distilled_model()
    {
        var sampler = new ConsistencySampler(NewNetwork(Tiny()), CPU);
        var specs = new[] { SampleSpec.Image(1, 0, 0, 3, guidance: 2.0) };
        var e = Assert.Throws<ArgumentException>(() => sampler.Sample(specs, SamplingSchedule.ForSteps(1)).Dispose());
        Assert.Contains("guidance scale must be 1", e.Message);

        var guided = new ConsistencySampler(NewNetwork(Tiny() with { GuidanceEmbedding = true }), CPU);
        using var x = guided.Sample(specs, SamplingSchedule.ForSteps(2));
        Assert.Equal([1, 1, 8, 8], x.shape);
    }

    [Fact]
    public void An_empty_batch_and_a_cancelled_token_are_rejected()
    {
        var sampler = new ConsistencySampler(NewNetwork(Tiny()), CPU);
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Sample([], SamplingSchedule.ForSteps(1)).Dispose());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => sampler.Sample(Specs(2), SamplingSchedule.ForSteps(2), cancelled.Token).Dispose());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConsistencySampler(NewNetwork(Tiny()), CPU, computeBatch: 0));
    }
}
