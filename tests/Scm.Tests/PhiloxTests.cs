using Scm.Sampling;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class PhiloxTests
{
    /// <summary>
    /// Known-answer vectors for philox4x32 with 10 rounds from Random123's tests/kat_vectors (D. E. Shaw Research),
    /// line format "philox4x32 10 ctr0 ctr1 ctr2 ctr3 key0 key1   out0 out1 out2 out3": zeros, all ones, and the
    /// hexadecimal digits of pi.
    /// </summary>
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Block_matches_the_Random123_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        Assert.Equal((r0, r1, r2, r3), Philox.Block(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void A_stream_is_a_pure_function_of_seed_frame_and_step()
    {
        var a = new float[1000];
        var b = new float[1000];
        Philox.FillNormal(a, 42, 7, 1);
        Philox.FillNormal(b, 42, 7, 1);
        Assert.Equal(a, b);

        foreach (var (seed, frame, step) in new[] { (43UL, 7L, 1), (42UL, 8L, 1), (42UL, 7L, 0), (42UL, -8L, 1), (42UL + (1UL << 32), 7L, 1), (42UL, 7L + (1L << 32), 1) })
        {
            Philox.FillNormal(b, seed, frame, step);
            Assert.True(a.Zip(b).Count(p => p.First == p.Second) < 5, $"stream ({seed}, {frame}, {step}) repeats (42, 7, 1)");
        }
    }

    [Fact]
    public void A_shorter_fill_is_a_prefix_of_a_longer_one()
    {
        // A frame's noise must not depend on the buffer length it was drawn into (e.g. 1 vs 3 channels share a prefix).
        var longer = new float[1027];
        Philox.FillNormal(longer, 5, 3, 0);
        foreach (int length in new[] { 1, 2, 3, 4, 5, 783, 1024 })
        {
            var shorter = new float[length];
            Philox.FillNormal(shorter, 5, 3, 0);
            Assert.Equal(longer.AsSpan(0, length).ToArray(), shorter);
        }
    }

    [Fact]
    public void Normal_draws_have_mean_zero_unit_variance_and_gaussian_tails()
    {
        const int n = 1 << 20;
        var x = new float[n];
        Philox.FillNormal(x, 123, 0, 0);
        double mean = x.Average(v => (double)v);
        double variance = x.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        double withinOneSigma = x.Count(v => Math.Abs(v) < 1) / (double)n;
        double beyondThree = x.Count(v => Math.Abs(v) > 3) / (double)n;
        double kurtosis = x.Sum(v => Math.Pow(v - mean, 4)) / n / (variance * variance);
        // Standard errors at n = 2^20: mean 0.001, variance 0.0014, P(|x| < 1) 0.00045, kurtosis ~0.005.
        Assert.InRange(mean, -0.005, 0.005);
        Assert.InRange(variance, 0.993, 1.007);
        Assert.InRange(withinOneSigma, 0.6827 - 0.003, 0.6827 + 0.003);
        Assert.InRange(beyondThree, 0.0027 - 0.0005, 0.0027 + 0.0005);
        Assert.InRange(kurtosis, 2.96, 3.04);
        Assert.All(x, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Neighbouring_streams_are_uncorrelated()
    {
        const int n = 100_000;
        var a = new float[n];
        var b = new float[n];
        Philox.FillNormal(a, 9, 0, 0);
        foreach (var (frame, step) in new[] { (1L, 0), (0L, 1) })
        {
            Philox.FillNormal(b, 9, frame, step);
            double correlation = a.Zip(b).Sum(p => (double)p.First * p.Second) / n;
            Assert.InRange(correlation, -0.015, 0.015); // standard error 1/sqrt(n) = 0.003
        }
    }
}
