using static TorchSharp.torch;

namespace Scm.Sampling;

/// <summary>
/// Runs a sampler on fixed-size chunks of exactly <c>computeBatch</c> samples, the last one padded with copies of
/// its last sample, and concatenates the real rows. One network shape for every call is what makes a frame's bits
/// independent of the batch it was requested in (see ConsistencySampler).
/// </summary>
internal static class ComputeChunks
{
    public static Tensor Run(IReadOnlyList<SampleSpec> specs, int computeBatch, Func<IReadOnlyList<SampleSpec>, Tensor> runChunk)
    {
        var chunks = new List<Tensor>();
        for (int start = 0; start < specs.Count; start += computeBatch)
        {
            int real = Math.Min(computeBatch, specs.Count - start);
            var chunk = Enumerable.Range(start, computeBatch).Select(i => specs[Math.Min(i, specs.Count - 1)]).ToList();
            chunks.Add(runChunk(chunk).narrow(0, 0, real));
        }
        return chunks.Count == 1 ? chunks[0] : cat(chunks, 0);
    }
}
