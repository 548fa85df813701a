using Scm.Sampling;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class VideoPlanTests
{
    static float[] Noise(SampleSpec spec, int length = 256)
    {
        using var t = NoiseBank.StandardNormal([spec], step: 0, [1, 16, 16]);
        return TestSupport.Floats(t).Take(length).ToArray();
    }

    static float[] Stream(ulong seed, long frame)
    {
        var x = new float[256];
        Philox.FillNormal(x, seed, frame, 0);
        return x;
    }

    [Fact]
    public void First_and_last_frames_carry_the_first_and_last_keyframe_classes()
    {
        int[] classes = [3, 7, 1];
        var first = VideoPlan.Frame(5, classes, 17, 0, 10);
        var last = VideoPlan.Frame(5, classes, 17, 16, 10);
        Assert.Equal(SampleSpec.OneHot(3, 10), first.Label);
        Assert.Equal(SampleSpec.OneHot(1, 10), last.Label);
        var middle = VideoPlan.Frame(5, classes, 17, 8, 10);
        Assert.Equal(SampleSpec.OneHot(7, 10), middle.Label);
    }

    [Fact]
    public void Labels_blend_monotonically_between_keyframes_and_stay_a_distribution()
    {
        int[] classes = [3, 7, 1];
        const int frames = 21;
        var specs = Enumerable.Range(0, frames).Select(f => VideoPlan.Frame(5, classes, frames, f, 10)).ToList();
        foreach (var spec in specs)
        {
            Assert.Equal(1.0, spec.Label.Sum(), 5);
            Assert.All(spec.Label, v => Assert.InRange(v, 0f, 1f));
            Assert.InRange(spec.Blend, 0, 1);
        }
        // 3 -> 7 over frames 0..10, then 7 -> 1 over frames 10..20.
        for (int f = 1; f <= 10; f++)
        {
            Assert.True(specs[f].Label[7] > specs[f - 1].Label[7]);
            Assert.True(specs[f].Label[3] < specs[f - 1].Label[3]);
        }
        for (int f = 11; f < frames; f++)
        {
            Assert.True(specs[f].Label[1] > specs[f - 1].Label[1]);
            Assert.True(specs[f].Label[7] < specs[f - 1].Label[7]);
        }
        // Progress through the keyframes (segment index + blend) never goes back.
        var progress = specs.Select(s => -1 - s.From.Frame + s.Blend).ToList();
        Assert.True(progress.Zip(progress.Skip(1)).All(p => p.Second > p.First));
    }

    [Fact]
    public void Keyframe_frames_use_exactly_the_keyframe_noise_streams()
    {
        // Keyframe k's stream is (seed, -1 - k); frames 0, 10, 20 are the keyframes of a 21-frame, 3-keyframe video.
        int[] classes = [3, 7, 1];
        for (int k = 0; k < 3; k++)
        {
            var spec = VideoPlan.Frame(5, classes, 21, 10 * k, 10);
            Assert.Equal(Stream(5, -1 - k), Noise(spec));
        }
        // Noise keyframes of different seeds differ.
        Assert.NotEqual(Noise(VideoPlan.Frame(5, classes, 21, 0, 10)), Noise(VideoPlan.Frame(6, classes, 21, 0, 10)));
    }

    [Fact]
    public void A_single_class_video_keeps_its_label_and_still_walks_between_two_noise_keyframes()
    {
        var first = VideoPlan.Frame(5, [4], 9, 0, 10);
        var last = VideoPlan.Frame(5, [4], 9, 8, 10);
        var middle = VideoPlan.Frame(5, [4], 9, 4, 10);
        Assert.All(new[] { first, middle, last }, s => Assert.Equal(SampleSpec.OneHot(4, 10), s.Label));
        Assert.Equal(Stream(5, -1), Noise(first));
        Assert.Equal(Stream(5, -2), Noise(last));
        Assert.Equal(0.5, middle.Blend, 12);
    }

    [Fact]
    public void Slerp_keeps_the_norm_of_gaussian_noise_where_linear_interpolation_shrinks_it()
    {
        var a = Stream(1, 0).Concat(Stream(1, 1)).ToArray();
        var b = Stream(2, 0).Concat(Stream(2, 1)).ToArray();
        double Norm(ReadOnlySpan<float> v) { double s = 0; foreach (var x in v) s += x * x; return Math.Sqrt(s); }
        double endpoints = (Norm(a) + Norm(b)) / 2;
        var result = new float[a.Length];
        foreach (double alpha in new[] { 0.1, 0.25, 0.5, 0.75, 0.9 })
        {
            NoiseBank.Slerp(a, b, alpha, result);
            Assert.InRange(Norm(result) / endpoints, 0.95, 1.05);
        }
        NoiseBank.Slerp(a, b, 0, result);
        Assert.Equal(a, result);
        NoiseBank.Slerp(a, b, 1, result);
        Assert.Equal(b, result);
        var linear = a.Zip(b, (x, y) => 0.5f * x + 0.5f * y).ToArray();
        Assert.InRange(Norm(linear) / endpoints, 0.6, 0.8); // ~1/sqrt(2): why a latent walk must not lerp
    }

    [Fact]
    public void Invalid_arguments_are_rejected_with_argument_exceptions()
    {
        Assert.Throws<ArgumentException>(() => VideoPlan.Frame(1, [], 5, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoPlan.Frame(1, [1], 0, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoPlan.Frame(1, [1], 5, 5, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoPlan.Frame(1, [1], 5, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoPlan.Frame(1, [1, 10], 5, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoPlan.Frame(1, [-1, 2], 5, 0, 10));
    }
}
