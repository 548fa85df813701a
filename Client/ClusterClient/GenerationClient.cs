using System.Runtime.CompilerServices;
using BlobStorage;
using Grains.Interfaces;
using Orleans.Runtime;

namespace ClusterClient;

/// <summary>
/// The cluster's API grain through an Orleans client: for programs inside the trust boundary only (the in-process
/// demo, benchmarks, tests). Tenants use the HTTP API (Client/ApiClient, scmctl). Every call carries an API key
/// to the cluster's API grain, which authenticates and authorises it; a missing, wrong
/// or revoked key raises <see cref="ApiAuthException"/>, a refused argument <see cref="RejectedException"/> (a submit's
/// refusal is its result's <see cref="SubmitResult.Rejection"/>). Every call has a deadline
/// (<see cref="ClientConnectionOptions.CallTimeout"/>) and a cancellation token.
/// </summary>
public sealed class GenerationClient(IClusterClient client, ClientConnectionOptions options, string? apiKey)
{
    IClusterApiGrain Api => client.GetGrain<IClusterApiGrain>(0);
    string Key => apiKey ?? "";

    public static string NewJobId() => $"j{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Validates locally first (with default limits), then submits; the cluster checks quotas and validates again with the model.</summary>
    public async Task<(string JobId, SubmitResult Result)> SubmitAsync(JobSpec spec, string? jobId = null, CancellationToken cancellationToken = default)
    {
        jobId ??= NewJobId();
        if (!TenantRules.IsValidId(jobId)) return (jobId, SubmitResult.Rejected(Rejection.Invalid("jobId", TenantRules.IdRule)));
        var local = JobSpecValidator.Validate(spec, new JobLimits());
        if (local.Count > 0) return (jobId, SubmitResult.Rejected(Rejection.Invalid(local)));
        var result = await Deadline(Api.Submit(Key, jobId, spec), cancellationToken);
        return (jobId, result);
    }

    public Task<Principal> WhoAmIAsync(CancellationToken cancellationToken = default) => Deadline(Api.WhoAmI(Key), cancellationToken);

    /// <summary>Null when the job does not exist or belongs to another tenant.</summary>
    public Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken = default) =>
        Deadline(Api.GetStatus(Key, jobId), cancellationToken);

    public Task<bool> CancelAsync(string jobId, CancellationToken cancellationToken = default) =>
        Deadline(Api.Cancel(Key, jobId), cancellationToken);

    /// <summary>All the caller's jobs, oldest first, read a page of <see cref="JobPage.MaxLimit"/> at a time.</summary>
    public async Task<IReadOnlyList<JobStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        var jobs = new List<JobStatus>();
        string? after = null;
        do
        {
            var page = await Deadline(Api.List(Key, after, JobPage.MaxLimit), cancellationToken);
            jobs.AddRange(page.Jobs);
            after = page.Next;
        } while (after is not null);
        return jobs;
    }

    public Task<TenantInfo> UsageAsync(string? tenant = null, CancellationToken cancellationToken = default) =>
        Deadline(Api.Usage(Key, tenant), cancellationToken);

    // Admin operations (the key's tenant needs the admin role).
    public Task<IssuedKey> CreateTenantAsync(string tenant, QuotaPatch? quota = null, double weight = 1, bool isAdmin = false, CancellationToken cancellationToken = default) =>
        Deadline(Api.CreateTenant(Key, tenant, isAdmin, quota, weight), cancellationToken);
    public async Task<IReadOnlyList<TenantInfo>> ListTenantsAsync(CancellationToken cancellationToken = default) =>
        await Deadline(Api.ListTenants(Key), cancellationToken);
    public Task<TenantInfo> SetQuotaAsync(string tenant, QuotaPatch patch, CancellationToken cancellationToken = default) =>
        Deadline(Api.SetQuota(Key, tenant, patch), cancellationToken);
    public Task<TenantInfo> SetWeightAsync(string tenant, double weight, CancellationToken cancellationToken = default) =>
        Deadline(Api.SetWeight(Key, tenant, weight), cancellationToken);
    public Task<IssuedKey> RotateKeyAsync(string tenant, bool keepOld = false, CancellationToken cancellationToken = default) =>
        Deadline(Api.RotateKey(Key, tenant, keepOld), cancellationToken);
    public Task<int> RevokeAsync(string tenant, string? keyId = null, CancellationToken cancellationToken = default) =>
        Deadline(Api.Revoke(Key, tenant, keyId), cancellationToken);

    /// <summary>Yields the job's status whenever it changes, until it is terminal.</summary>
    public async IAsyncEnumerable<JobStatus> WatchAsync(string jobId, TimeSpan? pollInterval = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        JobStatus? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var status = await GetStatusAsync(jobId, cancellationToken) ?? throw new KeyNotFoundException($"jobId: no job {JobSpecValidator.Echo(jobId)}");
            if (last is null || status.FramesDone != last.FramesDone || status.State != last.State) yield return status;
            if (status.IsTerminal) yield break;
            last = status;
            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    /// <summary>Downloads a completed job's frames, manifest and MP4 from blob storage into a folder.</summary>
    public async Task<IReadOnlyList<string>> FetchAsync(string jobId, IBlobStore blobs, string targetDirectory, CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(jobId, cancellationToken) ?? throw new KeyNotFoundException($"jobId: no job {JobSpecValidator.Echo(jobId)}");
        if (status.State != JobState.Completed)
            throw new InvalidOperationException($"job '{jobId}' is {status.State}; only completed jobs can be fetched (their manifest lists every frame).");
        Directory.CreateDirectory(targetDirectory);
        var written = new List<string>();
        await foreach (var name in blobs.ListAsync(status.BlobPrefix, cancellationToken))
        {
            var bytes = await blobs.GetAsync(name, cancellationToken);
            if (bytes is null) continue;
            var path = Path.Combine(targetDirectory, name[status.BlobPrefix.Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes, cancellationToken);
            written.Add(path);
        }
        return written;
    }

    async Task<T> Deadline<T>(Task<T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(options.CallTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The cluster did not answer within {options.CallTimeout.TotalSeconds:F0} s (Client:CallTimeout). Is a silo running and reachable?");
        }
    }
}
