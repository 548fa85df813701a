using System.Text.Json;
using BlobStorage;

namespace Cluster.Tests;

public sealed record ManifestEntry(int Index, string Blob, string Sha256);

public static class ManifestReader
{
    public static async Task<List<ManifestEntry>> ReadAsync(IBlobStore blobs, string manifestBlob)
    {
        var bytes = await blobs.GetAsync(manifestBlob) ?? throw new InvalidOperationException($"manifest {manifestBlob} missing");
        using var doc = JsonDocument.Parse(bytes);
        return doc.RootElement.GetProperty("frames").EnumerateArray()
            .Select(f => new ManifestEntry(f.GetProperty("index").GetInt32(), f.GetProperty("blob").GetString()!, f.GetProperty("sha256").GetString()!))
            .ToList();
    }
}
