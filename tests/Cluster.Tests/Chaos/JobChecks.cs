using System.Security.Cryptography;
using BlobStorage;
using Grains.Interfaces;

namespace Cluster.Tests.Chaos;

public static class JobChecks
{
    /// <summary>
    /// Every frame exactly once: the manifest lists each index 0..N-1 once with its own blob, the job's frames folder
    /// holds exactly those N blobs (nothing extra, nothing missing), and each stored PNG hashes to the SHA-256 the
    /// manifest records, which equals the unfailed reference. Returns the number of frames checked.
    /// </summary>
    public static async Task<int> AssertEveryFrameOnceAsync(IBlobStore blobs, JobStatus status, string[] reference, CancellationToken cancellationToken)
    {
        Assert.Equal(JobState.Completed, status.State);
        Assert.NotNull(status.ManifestBlob);
        var manifest = await ManifestReader.ReadAsync(blobs, status.ManifestBlob);
        Assert.Equal(Enumerable.Range(0, reference.Length), manifest.Select(f => f.Index));
        Assert.Equal(reference.Length, manifest.Select(f => f.Blob).Distinct().Count());

        var stored = new List<string>();
        await foreach (var name in blobs.ListAsync(status.BlobPrefix + "frames/", cancellationToken)) stored.Add(name);
        Assert.Equal(manifest.Select(f => f.Blob).Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));

        var mismatches = new List<string>();
        await Parallel.ForEachAsync(manifest, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (frame, ct) =>
        {
            var png = await blobs.GetAsync(frame.Blob, ct);
            var actual = png is null ? "missing" : Convert.ToHexStringLower(SHA256.HashData(png));
            if (actual != frame.Sha256 || frame.Sha256 != reference[frame.Index])
                lock (mismatches) mismatches.Add($"frame {frame.Index}: stored {actual}, manifest {frame.Sha256}, reference {reference[frame.Index]}");
        });
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} frames differ:\n" + string.Join("\n", mismatches.Order().Take(20)));
        return manifest.Count;
    }
}
