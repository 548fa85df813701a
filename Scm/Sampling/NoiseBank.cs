using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>Builds batch noise tensors from per-sample counter-based streams (see <see cref="Philox"/>).</summary>
public static class NoiseBank
{
    /// <summary>Standard-normal noise [B, C, H, W] for step <paramref name="step"/> of every spec, on CPU.</summary>
    public static Tensor StandardNormal(IReadOnlyList<SampleSpec> specs, int step, long[] sampleShape)
    {
        int perSample = checked((int)sampleShape.Aggregate(1L, (a, b) => a * b));
        var data = new float[specs.Count * perSample];
        var from = new float[perSample];
        var to = new float[perSample];
        for (int i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var target = data.AsSpan(i * perSample, perSample);
            Philox.FillNormal(from, spec.From.Seed, spec.From.Frame, step);
            if (spec.Blend == 0 || spec.From == spec.To)
            {
                from.CopyTo(target);
                continue;
            }
            Philox.FillNormal(to, spec.To.Seed, spec.To.Frame, step);
            Slerp(from, to, spec.Blend, target);
        }
        return tensor(data, [specs.Count, .. sampleShape]);
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
