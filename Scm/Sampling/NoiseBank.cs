using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>Builds batch noise tensors from per-sample counter-based streams (see <see cref="Philox"/>).</summary>
public static class NoiseBank
{
    /// <summary>Samples per parallel task: a CPU worker.s chunk of 8 is one task.</summary>
    const int SamplesPerTask = 16;

    /// <summary>
    /// Standard-normal noise [B, C, H, W] for step <paramref name="step"/> of every spec, on CPU. Samples are filled
    /// in parallel over the node's cores: each one is a pure function of its own stream, so the bits do not depend on
    /// the thread that made them, and on a GPU node this host-side draw (Box-Muller in double precision, ~45 us per
    /// 32x32 sample on one core) was the sampler's bottleneck: more than the two network evaluations.
    /// </summary>
    public static Tensor StandardNormal(IReadOnlyList<SampleSpec> specs, int step, long[] sampleShape)
    {
        int perSample = checked((int)sampleShape.Aggregate(1L, (a, b) => a * b));
        var data = new float[specs.Count * perSample];
        if (specs.Count == 0) return tensor(data, [0, .. sampleShape]);
        // The default scheduler, not the caller's: from a grain turn the ranges would otherwise queue on one thread.
        Parallel.ForEach(Partitioner.Create(0, specs.Count, SamplesPerTask), new ParallelOptions { TaskScheduler = TaskScheduler.Default }, range =>
        {
            var from = new float[perSample];
            var to = new float[perSample];
            for (int i = range.Item1; i < range.Item2; i++)
                Fill(specs[i], step, from, to, data.AsSpan(i * perSample, perSample));
        });
        return tensor(data, [specs.Count, .. sampleShape]);
    }

    static void Fill(SampleSpec spec, int step, float[] from, float[] to, Span<float> target)
    {
        Philox.FillNormal(from, spec.From.Seed, spec.From.Frame, step);
        if (spec.Blend == 0 || spec.From == spec.To)
        {
            from.CopyTo(target);
            return;
        }
        Philox.FillNormal(to, spec.To.Seed, spec.To.Frame, step);
        Slerp(from, to, spec.Blend, target);
    }

    /// <summary>Spherical interpolation; keeps the norm of (near-orthogonal) Gaussian vectors.</summary>
    public static void Slerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double alpha, Span<float> result)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        double cos = Math.Clamp(dot / Math.Sqrt(na * nb), -1, 1);
        double theta = Math.Acos(cos);
        double wa, wb;
        if (theta < 1e-4) { wa = 1 - alpha; wb = alpha; }
        else { wa = Math.Sin((1 - alpha) * theta) / Math.Sin(theta); wb = Math.Sin(alpha * theta) / Math.Sin(theta); }
        for (int i = 0; i < a.Length; i++) result[i] = (float)(wa * a[i] + wb * b[i]);
    }
}
