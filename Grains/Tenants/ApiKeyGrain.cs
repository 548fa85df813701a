using Grains.Hosting;
using Grains.Interfaces;
using Microsoft.Extensions.Options;

namespace Grains.Tenants;

[GenerateSerializer]
public sealed class ApiKeyRecord
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string Tenant { get; set; } = "";
    [Id(2)] public bool IsAdmin { get; set; }
    [Id(3)] public byte[] Salt { get; set; } = [];
    [Id(4)] public byte[] Hash { get; set; } = [];
    [Id(5)] public bool Revoked { get; set; }
    [Id(6)] public DateTime CreatedAt { get; set; }
}

/// <summary>
/// One API key (grain key = key id): lookup by id, then a constant-time comparison of the salted hash. The
/// bootstrap admin key (configuration Tenants:AdminKeyHash) applies while no stored record has its id; revoking
/// it stores a revoked record, which then wins over the configuration.
/// </summary>
public sealed class ApiKeyGrain(
    [PersistentState("apikey", "jobs")] IPersistentState<ApiKeyRecord> key,
    IOptions<TenantOptions> tenantOptions) : Grain, IApiKeyGrain
{
    public const string AdminTenant = "admin";
    string KeyId => this.GetPrimaryKeyString();
    bool adminTenantEnsured;

    public async Task Register(string tenant, bool isAdmin, byte[] salt, byte[] hash)
    {
        if (key.State.Exists || Bootstrap() is not null) throw new InvalidOperationException($"key id {KeyId} already exists");
        key.State = new ApiKeyRecord { Exists = true, Tenant = tenant, IsAdmin = isAdmin, Salt = salt, Hash = hash, CreatedAt = DateTime.UtcNow };
        await key.WriteOwnStateAsync();
    }

    public async Task<Principal> Verify(string secret)
    {
        var record = key.State.Exists ? key.State : Bootstrap();
        if (record is null)
        {
            // Key ids of well-formed but unknown keys are the caller's choice: do not let each one hold an activation.
            DeactivateOnIdle();
            throw new ApiAuthException(AuthProblem.UnknownKey, $"no API key with id {KeyId}");
        }
        // Compare before looking at revocation, so timing does not tell a revoked key's secret apart.
        bool matches = ApiKeys.Matches(record.Salt, record.Hash, secret);
        if (!matches) throw new ApiAuthException(AuthProblem.WrongKey, $"the secret of key {KeyId} does not match");
        if (record.Revoked) throw new ApiAuthException(AuthProblem.RevokedKey, $"key {KeyId} has been revoked");
        if (!key.State.Exists && !adminTenantEnsured)
        {
            // First use of the bootstrap admin key: make sure the admin tenant exists (Create is idempotent).
            var admin = GrainFactory.GetGrain<ITenantGrain>(AdminTenant);
            await admin.Create(isAdmin: true, tenantOptions.Value.DefaultQuota, 1);
            await admin.AdoptKey(KeyId);
            adminTenantEnsured = true;
        }
        return new Principal { Tenant = record.Tenant, KeyId = KeyId, IsAdmin = record.IsAdmin };
    }

    public async Task<bool> Revoke()
    {
        var record = key.State.Exists ? key.State : Bootstrap();
        if (record is null || record.Revoked) return false;
        record.Exists = true;
        record.Revoked = true;
        key.State = record;
        await key.WriteOwnStateAsync();
        return true;
    }

    ApiKeyRecord? Bootstrap()
    {
        var line = ApiKeys.ParseHashLine(tenantOptions.Value.AdminKeyHash);
        if (line is not { } admin || admin.KeyId != KeyId) return null;
        return new ApiKeyRecord { Tenant = AdminTenant, IsAdmin = true, Salt = admin.Salt, Hash = admin.Hash };
    }
}
