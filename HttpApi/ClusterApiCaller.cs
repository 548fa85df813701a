using Grains.Interfaces;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace HttpApi;

/// <summary>
/// The HTTP API's only way into the cluster: the same <see cref="IClusterApiGrain"/> the Orleans client calls, with
/// the request's API key on every call. Authentication, validation, quotas and tenant isolation therefore live in one
/// place (the grain) and behave identically for both clients. Each call gets a deadline and the request's abort token.
/// </summary>
public sealed class ClusterApiCaller(IGrainFactory grains, IOptions<HttpApiOptions> options, IOptions<JobLimits>? limits = null)
{
    public const string ApiKeyHeader = "X-Api-Key";

    IClusterApiGrain Api => grains.GetGrain<IClusterApiGrain>(0);

    public HttpApiOptions Options => options.Value;

    /// <summary>
    /// The silo's configured limits (section "Limits"), for the same early check the Orleans client makes with its
    /// defaults: the error then names the limit the coordinator will enforce. The grains still check everything.
    /// </summary>
    public JobLimits Limits => limits?.Value ?? new JobLimits();

    /// <summary>
    /// "Authorization: Bearer scm_..." first, else "X-Api-Key". An absent key is passed on as empty so that the grain
    /// refuses it like any other bad key (one code path for every auth problem).
    /// </summary>
    public static string ApiKeyOf(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization["Bearer ".Length..].Trim();
        return request.Headers[ApiKeyHeader].ToString().Trim();
    }

    public Task<Principal> WhoAmI(HttpContext http) => Call(http, (api, key) => api.WhoAmI(key));
    public Task<SubmitResult> Submit(HttpContext http, string jobId, JobSpec spec) => Call(http, (api, key) => api.Submit(key, jobId, spec));
    /// <summary>Null when the job does not exist or belongs to another tenant (the grain does not tell them apart).</summary>
    public Task<JobStatus?> Status(HttpContext http, string jobId) => Call(http, (api, key) => api.GetStatus(key, jobId));
    public Task<bool> Cancel(HttpContext http, string jobId) => Call(http, (api, key) => api.Cancel(key, jobId));
    public Task<JobPage> List(HttpContext http, string? after, int limit) => Call(http, (api, key) => api.List(key, after, limit));
    public Task<TenantInfo> Usage(HttpContext http, string? tenant = null) => Call(http, (api, key) => api.Usage(key, tenant));
    public Task<SchedulerSnapshot> Snapshot(HttpContext http) => Call(http, (api, key) => api.Snapshot(key));

    // Admin operations: the API grain checks the admin role on each of them.
    public Task<IssuedKey> CreateTenant(HttpContext http, string tenant, bool isAdmin, QuotaPatch? quota, double weight) =>
        Call(http, (api, key) => api.CreateTenant(key, tenant, isAdmin, quota, weight));
    public Task<TenantInfo[]> ListTenants(HttpContext http) => Call(http, (api, key) => api.ListTenants(key));
    public Task<TenantInfo> SetQuota(HttpContext http, string tenant, QuotaPatch patch) => Call(http, (api, key) => api.SetQuota(key, tenant, patch));
    public Task<TenantInfo> SetWeight(HttpContext http, string tenant, double weight) => Call(http, (api, key) => api.SetWeight(key, tenant, weight));
    public Task<IssuedKey> RotateKey(HttpContext http, string tenant, bool keepOld) => Call(http, (api, key) => api.RotateKey(key, tenant, keepOld));
    public Task<int> Revoke(HttpContext http, string tenant, string? keyId) => Call(http, (api, key) => api.Revoke(key, tenant, keyId));

    /// <summary>
    /// The silos, as this silo's membership view shows them. Asked of the management grain from inside the silo:
    /// external clients cannot reach that grain, so the API is the only way to this list, and only for admins.
    /// </summary>
    public async Task<SiloEntry[]> Silos(HttpContext http)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(Options.CallTimeout, http.RequestAborted);
        return hosts.Select(h => new SiloEntry(h.SiloName, h.SiloAddress.ToString(), h.Status.ToString()))
            .OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Polls for an event stream; the caller passes the stream's own token.</summary>
    public Task<JobStatus?> Status(string apiKey, string jobId, CancellationToken cancellationToken) =>
        Api.GetStatus(apiKey, jobId).WaitAsync(Options.CallTimeout, cancellationToken);

    Task<T> Call<T>(HttpContext http, Func<IClusterApiGrain, string, Task<T>> call) =>
        call(Api, ApiKeyOf(http.Request)).WaitAsync(Options.CallTimeout, http.RequestAborted);
}
