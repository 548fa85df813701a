namespace HttpApi;

/// <summary>
/// Open event streams per API key on this silo. Each stream polls the cluster every EventPollInterval for as long as it
/// is open, so without a bound one key could hold thousands and turn them into a steady load on the cluster; at
/// <see cref="HttpApiOptions.MaxEventStreamsPerKey"/> a further stream is refused (429) until one closes.
/// </summary>
public sealed class EventStreamSlots
{
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

    sealed class Slot(EventStreamSlots owner, string keyId) : IDisposable
    {
        int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) owner.Release(keyId);
        }
    }
}
