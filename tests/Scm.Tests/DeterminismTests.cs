using Scm.Images;
using Scm.Network;
using Scm.Sampling;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>
/// A frame's pixels must depend only on (model, seed, frame, step count), never on the batch it was sampled in:
/// retried or re-split batches have to rewrite identical bytes.
/// </summary>
public class DeterminismTests(ITestOutputHelper output)
{
    static SampleSpec Frame(long frame, int numClasses) => SampleSpec.Image(2024, frame, (int)(frame % numClasses), numClasses);

    /// <summary>Samples <paramref name="target"/> at <paramref name="position"/> of a batch of other frames.</summary>
    static (float[] Floats, byte[] Png) SampleInBatch(ConsistencySampler sampler, SampleSpec target, int batch, int position, int numClasses)
    {
        var specs = Enumerable.Range(0, batch).Select(i => i == position ? target : Frame(500 + i, numClasses)).ToList();
        using var x = sampler.Sample(specs, SamplingSchedule.ForSteps(2));
        using var frame = x.narrow(0, position, 1);
        return (Floats(frame), PngEncoder.EncodeBatch(frame, 28)[0]);
    }

    public static TheoryData<string> Architectures => ["tiny", "mnist"];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void A_frame_has_the_same_floats_and_png_bytes_alone_and_anywhere_in_any_batch(string architecture)
    {
        var config = architecture == "tiny" ? Tiny(numClasses: 10) : Mnist;
        var sampler = new ConsistencySampler(NewNetwork(config, seed: 3), CPU);
        var target = Frame(77, 10);
        var alone = SampleInBatch(sampler, target, 1, 0, 10);
        foreach (var (batch, position) in new[] { (2, 1), (3, 0), (8, 7), (9, 8), (13, 4), (20, 19) })
        {
            var inBatch = SampleInBatch(sampler, target, batch, position, 10);
            Assert.True(alone.Floats.SequenceEqual(inBatch.Floats), $"floats differ for batch {batch}, position {position}");
            Assert.Equal(alone.Png, inBatch.Png);
        }
    }

    [Fact]
    public void Video_frames_sampled_one_by_one_equal_the_whole_video_sampled_at_once()
    {
        var sampler = new ConsistencySampler(NewNetwork(Tiny(numClasses: 10), seed: 4), CPU);
        var frames = Enumerable.Range(0, 11).Select(f => VideoPlan.Frame(9, [3, 7, 1], 11, f, 10)).ToList();
        using var video = sampler.Sample(frames, SamplingSchedule.ForSteps(2));
        for (int f = 0; f < frames.Count; f++)
        {
            using var single = sampler.Sample([frames[f]], SamplingSchedule.ForSteps(2));
            Assert.Equal(Floats(video.narrow(0, f, 1)), Floats(single));
        }
    }

    [Fact]
    public void Sampling_twice_gives_identical_bits()
    {
        var sampler = new ConsistencySampler(NewNetwork(Tiny(numClasses: 10), seed: 5), CPU);
        var specs = Enumerable.Range(0, 5).Select(i => Frame(i, 10)).ToList();
        using var a = sampler.Sample(specs, SamplingSchedule.ForSteps(3));
        using var b = sampler.Sample(specs, SamplingSchedule.ForSteps(3));
        Assert.Equal(Floats(a), Floats(b));
    }

    /// <summary>
    /// Why the sampler evaluates F on fixed-size chunks: evaluated directly, a sample's output depends on the
    /// batch size it is computed in (CPU kernels choose algorithms by batch size). This records how far apart
    /// such results are; it asserts only that they agree to float rounding, as a library update may change them.
    /// </summary>
    [Fact]
    public void Direct_network_evaluation_differs_between_batch_sizes_only_by_float_rounding()
    {
        var network = NewNetwork(Mnist, seed: 6);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        manual_seed(7);
        var x = randn(16, 1, 32, 32);
        var t = full(16, 1.1f);
        var labels = nn.functional.one_hot(arange(16) % 10, 10).to(float32);
        var reference = network.forward(x.narrow(0, 0, 1), t.narrow(0, 0, 1), labels.narrow(0, 0, 1), null);
        foreach (int batch in new[] { 2, 3, 4, 8, 16 })
        {
            var inBatch = network.forward(x.narrow(0, 0, batch), t.narrow(0, 0, batch), labels.narrow(0, 0, batch), null).narrow(0, 0, 1);
            double diff = MaxAbsDiff(reference, inBatch);
            output.WriteLine($"batch {batch,2}: max |F(alone) - F(in batch)| = {diff:E2}");
            Assert.True(diff < 1e-4, $"batch {batch}: {diff}");
        }
    }
}
