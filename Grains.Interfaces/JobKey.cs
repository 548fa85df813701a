namespace Grains.Interfaces;

/// <summary>
/// The key of a job's coordinator grain, "{tenant}/{jobId}": every tenant has its own namespace of job ids, so two
/// tenants may use the same id for two different jobs, and one tenant's submit can neither find out whether another
/// tenant has a job of that id nor take the id away from it. Tenant ids cannot contain '/' (<see cref="TenantRules"/>).
/// </summary>
public static class JobKey
{
    public static string Of(string tenant, string jobId) => $"{tenant}/{jobId}";

    /// <summary>The tenant and job id of a key; a key without '/' has no tenant.</summary>
    public static (string Tenant, string JobId) Parse(string key)
    {
        int slash = key.IndexOf('/');
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }
}
