using Scm.Sampling;

namespace Scm.Tests;

[Trait("Category", "Unit")]
public class NoiseBankTests
{
    [Fact]
    public void A_batch_filled_in_parallel_holds_each_samples_own_stream_bit_for_bit()
    {
        // 100 samples: several parallel ranges of 16; every third one a video blend between two streams.
        var specs = Enumerable.Range(0, 100).Select(i => i % 3 == 0
            ? new SampleSpec(new NoiseKey(7, i), new NoiseKey(7, i + 1000), 0.3, [])
            : SampleSpec.Image(7, i, -1, 0)).ToList();
        using var batch = NoiseBank.StandardNormal(specs, step: 1, [1, 8, 8]);
        var all = TestSupport.Floats(batch);

        for (int i = 0; i < specs.Count; i++)
        {
            using var alone = NoiseBank.StandardNormal([specs[i]], step: 1, [1, 8, 8]);
            Assert.Equal(TestSupport.Floats(alone), all.Skip(i * 64).Take(64).ToArray());
        }
        var stream = new float[64];
        Philox.FillNormal(stream, 7, 1, 1);
        Assert.Equal(stream, all.Skip(64).Take(64).ToArray());
    }

    [Fact]
    public void An_empty_batch_is_an_empty_tensor()
    {
        using var none = NoiseBank.StandardNormal([], step: 0, [1, 8, 8]);
        Assert.Equal([0L, 1, 8, 8], none.shape);
    }
}
