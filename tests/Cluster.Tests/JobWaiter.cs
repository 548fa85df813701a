using Grains.Interfaces;

namespace Cluster.Tests;

public static class JobWaiter
{
    /// <summary>Polls until the job is terminal; fails the test with the last status after the timeout.</summary>
    public static async Task<JobStatus> UntilTerminalAsync(IClusterClient client, string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JobStatus? status = null;
        while (DateTime.UtcNow < deadline)
        {
            status = await client.GetGrain<IJobCoordinatorGrain>(jobId).GetStatus();
            if (status?.IsTerminal == true) return status;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {jobId} not finished after {timeout}: {status}");
    }
}
