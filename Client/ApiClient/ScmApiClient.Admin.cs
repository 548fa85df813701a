namespace ApiClient;

/// <summary>Admin calls (/v1/admin/...): the key's tenant needs the admin role, else 403 (Auth).</summary>
public sealed partial class ScmApiClient
{
    static string TenantPath(string tenant) => "v1/admin/tenants/" + Uri.EscapeDataString(tenant);

    public async Task<IReadOnlyList<TenantView>> ListTenantsAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync<TenantList>("v1/admin/tenants", cancellationToken)).Tenants;

    public Task<TenantView> TenantAsync(string tenant, CancellationToken cancellationToken = default) =>
        GetAsync<TenantView>(TenantPath(tenant), cancellationToken);

    /// <summary>Not retried after the request was sent: a second attempt would answer 409 and the first key would be lost.</summary>
    public Task<IssuedKey> CreateTenantAsync(string tenant, QuotaChange? quota = null, double weight = 1, bool isAdmin = false,
        CancellationToken cancellationToken = default) =>
        SendJsonAsync<IssuedKey>(HttpMethod.Post, "v1/admin/tenants", new { tenant, isAdmin, weight, quota }, idempotent: false, cancellationToken);

    public Task<TenantView> SetQuotaAsync(string tenant, QuotaChange change, CancellationToken cancellationToken = default) =>
        SendJsonAsync<TenantView>(HttpMethod.Patch, TenantPath(tenant) + "/quota", change, idempotent: true, cancellationToken);

    public Task<TenantView> SetWeightAsync(string tenant, double weight, CancellationToken cancellationToken = default) =>
        SendJsonAsync<TenantView>(HttpMethod.Put, TenantPath(tenant) + "/weight", new { weight }, idempotent: true, cancellationToken);

    /// <summary>A new key; unless <paramref name="keepOld"/>, the tenant's other keys are revoked. Not retried once sent (each attempt issues a key).</summary>
    public Task<IssuedKey> RotateKeyAsync(string tenant, bool keepOld = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync<IssuedKey>(HttpMethod.Post, TenantPath(tenant) + "/keys", new { keepOld }, idempotent: false, cancellationToken);

    /// <summary>Revokes one key, or every key of the tenant; the number revoked (0 when already revoked: idempotent).</summary>
    public async Task<int> RevokeAsync(string tenant, string? keyId = null, CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<RevokeResult>(HttpMethod.Delete, TenantPath(tenant) + "/keys" + (keyId is null ? "" : "/" + Uri.EscapeDataString(keyId)),
            null, idempotent: true, cancellationToken)).Revoked;

    public Task<ClusterView> ClusterAsync(CancellationToken cancellationToken = default) => GetAsync<ClusterView>("v1/admin/cluster", cancellationToken);
}
