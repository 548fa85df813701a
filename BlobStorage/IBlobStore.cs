namespace BlobStorage;

/// <summary>
/// Where frames, manifests and videos go. Names are relative paths with '/' separators
/// (e.g. "tenants/acme/jobs/j1/frames/000001.png"). Writes are whole-blob and idempotent: writing the same
/// name twice leaves the last content, which is how a retried batch rewrites identical bytes.
/// Transient failures are retried inside the implementation; an exception means the operation failed.
/// </summary>
public interface IBlobStore
{
    /// <summary>Human-readable location, e.g. "local folder /out" or "azure http://127.0.0.1:10000/devstoreaccount1/scm".</summary>
    string Location { get; }

    Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default);

    /// <summary>The blob's content, or null when it does not exist.</summary>
    Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// The blob as a stream to copy out without holding it in memory (the HTTP API serves videos this way), or null
    /// when it does not exist. Seekable where the store allows, so ranges can be served. The default reads the whole
    /// blob; the real stores override it.
    /// </summary>
    async Task<Stream?> OpenReadAsync(string name, CancellationToken cancellationToken = default) =>
        await GetAsync(name, cancellationToken).ConfigureAwait(false) is { } bytes ? new MemoryStream(bytes, writable: false) : null;

    Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Names starting with <paramref name="prefix"/>, in ordinal order.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the blob if it exists.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}
