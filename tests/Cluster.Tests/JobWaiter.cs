using Grains.Interfaces;

namespace Cluster.Tests;

public static class JobWaiter
{
    /// <summary>
    /// Polls until the job is terminal; fails the test with the last status after the timeout. Each call has a
    /// short deadline: a client call into a silo that just died hangs until Orleans' 30 s response timeout.
    /// </summary>
    public static async Task<JobStatus> UntilTerminalAsync(IClusterClient client, string jobId, TimeSpan timeout, Action<string>? log = null,
        string tenant = "default")
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastLog = DateTime.UtcNow;
        JobStatus? status = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                status = await client.GetGrain<IJobCoordinatorGrain>(JobKey.Of(tenant, jobId)).GetStatus().WaitAsync(TimeSpan.FromSeconds(3));
                if (status?.IsTerminal == true) return status;
                if (log is not null && DateTime.UtcNow - lastLog > TimeSpan.FromSeconds(5))
                {
                    lastLog = DateTime.UtcNow;
                    var snapshot = await client.GetGrain<ISchedulerGrain>(0).Snapshot().WaitAsync(TimeSpan.FromSeconds(3));
                    log($"{DateTime.UtcNow:HH:mm:ss.f} {jobId}: {status?.State} frames {status?.FramesDone}/{status?.FramesTotal} " +
                        $"queued {status?.ItemsQueued} leased {status?.ItemsLeased} done {status?.ItemsDone} retries {status?.Retries}; " +
                        $"scheduler queued {snapshot.Tenants.Sum(t => t.QueuedItems)} leases {snapshot.LeasesOutstanding} expired {snapshot.LeasesExpired}");
                }
            }
            catch (TimeoutException)
            {
                log?.Invoke($"{DateTime.UtcNow:HH:mm:ss.f} a status call timed out (silo change); retrying");
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {jobId} not finished after {timeout}: {status}");
    }
}
