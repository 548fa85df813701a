using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BlobStorage;

namespace ScmTools;

/// <summary>
/// A blob store in this process's memory, shared by every silo of `bench scale`: the bench measures the cluster's
/// coordination, so frame writes should cost what a fast store costs, not what this machine's disk does.
/// </summary>
public sealed class MemoryBlobStore : IBlobStore
{
    readonly ConcurrentDictionary<string, byte[]> blobs = new(StringComparer.Ordinal);

    public string Location => "memory (bench)";

    public int Count => blobs.Count;

    public Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        blobs[name] = content.ToArray();
        return Task.CompletedTask;
    }

    public Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(blobs.TryGetValue(name, out var bytes) ? bytes : null);

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult(blobs.ContainsKey(name));

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var name in blobs.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        blobs.TryRemove(name, out _);
        return Task.CompletedTask;
    }
}
