using System.Runtime.CompilerServices;
using BlobStorage;
using Grains.Interfaces;
using Orleans.Runtime;

namespace ClusterClient;

/// <summary>
/// The submission API of the cluster for .NET programs. Every call has a deadline
/// (<see cref="ClientConnectionOptions.CallTimeout"/>) and a cancellation token.
/// </summary>
public sealed class GenerationClient(IClusterClient client, ClientConnectionOptions options, string tenant = "default")
{
    public string Tenant => tenant;

    public static string NewJobId() => $"j{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Validates locally first (with default limits), then submits; the cluster validates again with the model.</summary>
    public async Task<(string JobId, SubmitResult Result)> SubmitAsync(JobSpec spec, string? jobId = null, CancellationToken cancellationToken = default)
    {
        jobId ??= NewJobId();
        if (!IsValidJobId(jobId)) return (jobId, SubmitResult.Rejected(["jobId: 1-64 characters from [A-Za-z0-9-_]"]));
        var local = JobSpecValidator.Validate(spec, new JobLimits());
        if (local.Count > 0) return (jobId, SubmitResult.Rejected(local));
        var result = await Deadline(client.GetGrain<IJobCoordinatorGrain>(jobId).Submit(spec, tenant), cancellationToken);
        return (jobId, result);
    }

    public Task<JobStatus?> GetStatusAsync(string jobId, CancellationToken cancellationToken = default) =>
        Deadline(client.GetGrain<IJobCoordinatorGrain>(jobId).GetStatus(), cancellationToken);

    public Task<bool> CancelAsync(string jobId, CancellationToken cancellationToken = default) =>
        Deadline(client.GetGrain<IJobCoordinatorGrain>(jobId).Cancel(), cancellationToken);

    public async Task<IReadOnlyList<JobStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        var ids = await Deadline(client.GetGrain<IJobIndexGrain>(tenant).List(), cancellationToken);
        var statuses = await Task.WhenAll(ids.Select(id => GetStatusAsync(id, cancellationToken)));
        return statuses.Where(s => s is not null).Select(s => s!).ToList();
    }

    /// <summary>Yields the job's status whenever it changes, until it is terminal.</summary>
    public async IAsyncEnumerable<JobStatus> WatchAsync(string jobId, TimeSpan? pollInterval = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        JobStatus? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var status = await GetStatusAsync(jobId, cancellationToken) ?? throw new KeyNotFoundException($"jobId: no job '{jobId}'");
            if (last is null || status.FramesDone != last.FramesDone || status.State != last.State) yield return status;
            if (status.IsTerminal) yield break;
            last = status;
            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    public async Task<ClusterOverview> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var hosts = await Deadline(management.GetDetailedHosts(onlyActive: true), cancellationToken);
        var snapshot = await Deadline(client.GetGrain<ISchedulerGrain>(0).Snapshot(), cancellationToken);
        var silos = hosts.Select(h => new SiloInfo(h.SiloName, h.SiloAddress.ToString(), h.Status.ToString())).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        return new ClusterOverview(silos, snapshot);
    }

    /// <summary>Downloads a completed job's frames, manifest and MP4 from blob storage into a folder.</summary>
    public async Task<IReadOnlyList<string>> FetchAsync(string jobId, IBlobStore blobs, string targetDirectory, CancellationToken cancellationToken = default)
    {
        var status = await GetStatusAsync(jobId, cancellationToken) ?? throw new KeyNotFoundException($"jobId: no job '{jobId}'");
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

    static bool IsValidJobId(string id) => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

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
