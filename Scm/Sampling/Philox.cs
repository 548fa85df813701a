namespace Scm.Sampling;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
/// generator. Output is a pure function of (key, counter), so the noise of a frame depends only on
/// (seed, frame index, step) and never on which batch or position the frame was sampled in.
/// </summary>
public static class Philox
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    public static (uint, uint, uint, uint) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            (c0, c1, c2, c3) = ((uint)(p1 >> 32) ^ c1 ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c3 ^ k1, (uint)p0);
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>
    /// Fills <paramref name="output"/> with standard normals for stream (seed, frame, step), by Box-Muller
    /// on uniforms in (0, 1).
    /// </summary>
    public static void FillNormal(Span<float> output, ulong seed, long frame, int step)
    {
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int i = 0, block = 0; i < output.Length; block++)
        {
            var (a, b, c, d) = Block((uint)block, (uint)frame, (uint)(frame >> 32), (uint)step, k0, k1);
            var (n0, n1) = BoxMuller(a, b);
            var (n2, n3) = BoxMuller(c, d);
            output[i++] = n0;
            if (i < output.Length) output[i++] = n1;
            if (i < output.Length) output[i++] = n2;
            if (i < output.Length) output[i++] = n3;
        }
    }

    static (float, float) BoxMuller(uint a, uint b)
    {
        double u1 = (a + 0.5) / 4294967296.0, u2 = (b + 0.5) / 4294967296.0;
        double r = Math.Sqrt(-2 * Math.Log(u1));
        return ((float)(r * Math.Cos(2 * Math.PI * u2)), (float)(r * Math.Sin(2 * Math.PI * u2)));
    }
}
