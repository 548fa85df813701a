using System.Diagnostics;
using Grains.Interfaces;
using Orleans.Runtime;

namespace Cluster.Tests;

/// <summary>Whether a worker grain answers its keep-alive calls (issue 16, item 7: a deactivating worker held them).</summary>
public static class WorkerAnswers
{
    /// <summary>
    /// Retries Start() + GetInfo() (3 s deadline each) until both answer; fails after <paramref name="within"/>.
    /// Logs how long it took, unless it answered at once and <paramref name="quietWhenPrompt"/> is set.
    /// </summary>
    public static async Task WithinAsync(IWorkerGrain worker, string what, TimeSpan within, Action<string> log,
        bool quietWhenPrompt = false, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        int failures = 0;
        while (true)
        {
            try
            {
                await worker.Start().WaitAsync(TimeSpan.FromSeconds(3), ct);
                await worker.GetInfo().WaitAsync(TimeSpan.FromSeconds(3), ct);
                if (failures > 0 || !quietWhenPrompt)
                    log($"{worker.GetPrimaryKeyString()} {what}: answered after {clock.Elapsed.TotalSeconds:F1} s ({failures} failed tries)");
                return;
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
            {
                failures++;
                if (clock.Elapsed > within)
                    Assert.Fail($"{worker.GetPrimaryKeyString()} {what}: no answer within {within.TotalSeconds} s " +
                                $"({failures} tries; last: {e.GetType().Name}: {e.Message})");
                await Task.Delay(200, ct);
            }
        }
    }
}
