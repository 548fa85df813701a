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
    public Task<JobStatus[]> List(HttpContext http) => Call(http, (api, key) => api.List(key));
    public Task<TenantInfo> Usage(HttpContext http) => Call(http, (api, key) => api.Usage(key));

    /// <summary>Polls for an event stream; the caller passes the stream's own token.</summary>
    public Task<JobStatus?> Status(string apiKey, string jobId, CancellationToken cancellationToken) =>
        Api.GetStatus(apiKey, jobId).WaitAsync(Options.CallTimeout, cancellationToken);

    Task<T> Call<T>(HttpContext http, Func<IClusterApiGrain, string, Task<T>> call) =>
        call(Api, ApiKeyOf(http.Request)).WaitAsync(Options.CallTimeout, http.RequestAborted);
}
