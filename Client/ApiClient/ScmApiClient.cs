using System.Net.Http.Json;
using System.Text.Json;

namespace ApiClient;

/// <summary>
/// The tenant-facing client of the cluster: HTTP(S) to a silo's API (/v1), an API key on every call, nothing else.
/// Every call has a deadline; idempotent calls (reads, cancel, revoke, quota and weight changes, and submit, whose
/// job id is chosen here so that a retry cannot create a second job) are retried through transient failures.
/// Failures are <see cref="ScmApiException"/>s with one-line messages.
/// </summary>
public sealed partial class ScmApiClient : IDisposable
{
    readonly HttpClient http;
    readonly ApiTransport transport;
    readonly ScmApiClientOptions options;

    public ScmApiClient(ScmApiClientOptions options)
    {
        options.Validate();
        this.options = options;
        var handler = options.Handler ?? new SocketsHttpHandler { ConnectTimeout = options.AttemptTimeout, PooledConnectionLifetime = TimeSpan.FromMinutes(1) };
        var baseAddress = options.BaseAddress.OriginalString.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.OriginalString + "/");
        // Deadlines are ours (per call, per attempt); HttpClient's own timeout would cut event streams and downloads.
        http = new HttpClient(handler, disposeHandler: options.Handler is null) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        transport = new ApiTransport(http, options);
    }

    public ScmApiClientOptions Options => options;

    /// <summary>A fresh job id: UTC time plus randomness, so ids sort by submission and two clients never collide.</summary>
    public static string NewJobId() => $"j{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    public static string JobPath(string jobId) => "v1/jobs/" + Uri.EscapeDataString(jobId);

    /// <summary>
    /// Submits under <paramref name="jobId"/> (default: <see cref="NewJobId"/>). Retried like any idempotent call:
    /// if an attempt created the job but its answer was lost, the retry gets 409 for the same id, and the job found
    /// under that id with this very spec is ours, so it is returned rather than reported as a conflict or duplicated.
    /// The same holds across calls when the caller chose the id: a user who resubmits after an "unavailable" error
    /// cannot know whether the first call's job was created, and must get that job, not a conflict.
    /// </summary>
    public async Task<JobView> SubmitAsync(JobRequest spec, string? jobId = null, CancellationToken cancellationToken = default)
    {
        bool callerChoseId = jobId is not null;
        jobId ??= NewJobId();
        var body = JsonSerializer.SerializeToUtf8Bytes(spec, ApiTransport.Json);
        try
        {
            using var response = await transport.SendAsync(() => Request(HttpMethod.Post, "v1/jobs?jobId=" + Uri.EscapeDataString(jobId),
                new ByteArrayContent(body) { Headers = { ContentType = new("application/json") { CharSet = "utf-8" } } }), idempotent: true, cancellationToken);
            return await ReadAsync<JobView>(response, cancellationToken);
        }
        catch (ScmApiException e) when (e.Kind == ApiErrorKind.Conflict && (e.Attempts > 1 || callerChoseId))
        {
            var existing = await GetJobAsync(jobId, cancellationToken);
            if (existing?.Spec is { } theirs && JsonSerializer.Serialize(theirs, ApiTransport.Json) == JsonSerializer.Serialize(spec, ApiTransport.Json))
                return existing;
            throw;
        }
    }

    /// <summary>Null when there is no such job for this key's tenant.</summary>
    public async Task<JobView?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetAsync<JobView>(JobPath(jobId), cancellationToken);
        }
        catch (ScmApiException e) when (e.Kind == ApiErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>All the caller's jobs, oldest first, read a page of <paramref name="pageSize"/> (1-1000) at a time.</summary>
    public async Task<IReadOnlyList<JobView>> ListJobsAsync(int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var jobs = new List<JobView>();
        string? after = null;
        do
        {
            string query = $"v1/jobs?limit={pageSize}" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            var page = await GetAsync<JobList>(query, cancellationToken);
            jobs.AddRange(page.Jobs);
            after = page.Next;
        } while (after is not null);
        return jobs;
    }

    /// <summary>The cancelled job; 409 (Conflict) once it completed or failed. Idempotent, so retried.</summary>
    public async Task<JobView> CancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        using var response = await transport.SendAsync(() => Request(HttpMethod.Post, JobPath(jobId) + ":cancel"), idempotent: true, cancellationToken);
        return await ReadAsync<JobView>(response, cancellationToken);
    }

    public Task<TenantView> UsageAsync(CancellationToken cancellationToken = default) => GetAsync<TenantView>("v1/usage", cancellationToken);

    /// <summary>A GET with retries, read as JSON.</summary>
    internal async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(() => Request(HttpMethod.Get, path), idempotent: true, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    internal async Task<T> SendJsonAsync<T>(HttpMethod method, string path, object? body, bool idempotent, CancellationToken cancellationToken)
    {
        using var response = await transport.SendAsync(() => Request(method, path, body is null ? null : JsonContent.Create(body, body.GetType(), options: ApiTransport.Json)),
            idempotent, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null) =>
        ApiTransport.Request(method, path, options.ApiKey, content);

    static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(ApiTransport.Json, cancellationToken)
                   ?? throw new ScmApiException(ApiErrorKind.Protocol, $"empty answer from {response.RequestMessage?.RequestUri?.AbsolutePath}");
        }
        catch (JsonException e)
        {
            throw new ScmApiException(ApiErrorKind.Protocol, $"unexpected answer from {response.RequestMessage?.RequestUri?.AbsolutePath}: {e.Message}", inner: e);
        }
    }

    public void Dispose() => http.Dispose();
}
