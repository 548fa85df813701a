using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Grains.Interfaces;
using Microsoft.Extensions.Options;

namespace Grains.Tenants;

/// <summary>
/// Keys the API grains of this silo verified recently (Tenants:KeyCacheSeconds, default 10 s; 0 turns it off).
/// Without it every call went through the key's grain, so while that grain's silo was dead but not yet declared
/// dead (5-12 s with default failure detection) every call with the key failed. The price is the revocation bound:
/// a key revoked elsewhere keeps working on this silo until its entry, written when it was last verified, expires;
/// a revocation made through this silo evicts the tenant's entries at once. Only successful verifications are
/// kept, under a SHA-256 of the whole key (never the secret itself), so a wrong secret is never answered from here.
/// </summary>
public sealed class VerifiedKeyCache(IOptions<TenantOptions> options, TimeProvider time)
{
    /// <summary>Beyond this many entries the expired ones are dropped, and if that is not enough, all of them.</summary>
    public const int MaxEntries = 10_000;

    sealed record Entry(Principal Principal, long VerifiedAt);

    readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    public TimeSpan Lifetime => TimeSpan.FromSeconds(options.Value.KeyCacheSeconds);

    /// <summary>The principal of a key verified less than <see cref="Lifetime"/> ago, else null.</summary>
    public Principal? TryGet(string apiKey)
    {
        if (Lifetime <= TimeSpan.Zero || !entries.TryGetValue(Digest(apiKey), out var entry)) return null;
        return time.GetElapsedTime(entry.VerifiedAt) < Lifetime ? entry.Principal : null;
    }

    public void Add(string apiKey, Principal principal)
    {
        if (Lifetime <= TimeSpan.Zero) return;
        if (entries.Count >= MaxEntries)
        {
            foreach (var (digest, entry) in entries)
                if (time.GetElapsedTime(entry.VerifiedAt) >= Lifetime) entries.TryRemove(digest, out _);
            if (entries.Count >= MaxEntries) entries.Clear();
        }
        entries[Digest(apiKey)] = new Entry(principal, time.GetTimestamp());
    }

    /// <summary>After a revocation or rotation through this silo: the tenant's keys are verified afresh.</summary>
    public void EvictTenant(string tenant)
    {
        foreach (var (digest, entry) in entries)
            if (entry.Principal.Tenant == tenant) entries.TryRemove(digest, out _);
    }

    static string Digest(string apiKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
}
