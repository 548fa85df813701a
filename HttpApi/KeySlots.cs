namespace HttpApi;

/// <summary>
/// Long-lived responses per API key on this silo, one counter per kind (keyed services <see cref="EventStreams"/> and
/// <see cref="Downloads"/>). An event stream polls the cluster every EventPollInterval while it is open; a video or
/// manifest download holds a blob stream or the whole manifest in memory until the client has read it. Without a bound
/// one key could hold thousands of either; at the limit a further one is refused (429) until one ends.
/// </summary>
public sealed class KeySlots
{
    /// <summary>Open event streams (HttpApi:MaxEventStreamsPerKey).</summary>
    public const string EventStreams = "event-streams";
    /// <summary>Video and manifest downloads in flight (HttpApi:MaxDownloadsPerKey).</summary>
    public const string Downloads = "downloads";

    readonly Dictionary<string, int> open = new(StringComparer.Ordinal);

    /// <summary>A slot for <paramref name="keyId"/>, released when disposed; null when the key holds <paramref name="limit"/> already.</summary>
    public IDisposable? TryAcquire(string keyId, int limit)
    {
        lock (open)
        {
            int count = open.GetValueOrDefault(keyId);
            if (count >= limit) return null;
            open[keyId] = count + 1;
        }
        return new Slot(this, keyId);
    }

    void Release(string keyId)
    {
        lock (open)
        {
            if (open.GetValueOrDefault(keyId) <= 1) open.Remove(keyId);
            else open[keyId]--;
        }
    }

    sealed class Slot(KeySlots owner, string keyId) : IDisposable
    {
        int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) owner.Release(keyId);
        }
    }
}
