using System.Diagnostics;
using Cluster.Tests.Chaos;
using Grains.Interfaces;
using StackExchange.Redis;

namespace Cluster.Tests;

/// <summary>
/// The cluster's backing services fail mid-job: the private Redis (clustering, grain state, reminders) is SIGKILLed and
/// restarted on the same port and data, or the private Azurite is SIGKILLed for 10 s. Jobs must complete with every
/// frame exactly once and the reference checksums, and no state may be lost (docs/RELIABILITY.md).
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public class ServiceOutageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly TimeSpan TestBudget = TimeSpan.FromMinutes(6);
    static readonly TimeSpan RedisOutage = TimeSpan.FromSeconds(3);
    static readonly TimeSpan AzuriteOutage = TimeSpan.FromSeconds(10);
    static JobSpec Spec => ProcessChaosTests.Spec;

    [Fact]
    public async Task Redis_killed_and_restarted_mid_job_loses_no_job_or_tenant_state_and_the_job_completes()
    {
        using var budget = new CancellationTokenSource(TestBudget);
        var ct = budget.Token;
        var reference = ReferenceFrames.Sha256Async(Spec, ct);
        await using var cluster = await ChaosCluster.StartAsync(output, cancellationToken: ct);
        try
        {
            var quota = new QuotaPatch { MaxRunningJobs = 2, MaxQueuedFrames = 1_000, MaxFramesPerJob = 600 };
            var issued = await cluster.Admin.CreateTenantAsync("acme", quota, weight: 2, cancellationToken: ct);
            var acme = cluster.Api(issued.ApiKey);
            var (jobId, before) = await ChaosCluster.SubmitAndRunToMidJobAsync(acme, Spec, "Redis could be killed", ct);

            var keysBefore = await KeysAsync(cluster.Redis.ConnectionString);
            var clock = Stopwatch.StartNew();
            await cluster.Redis.KillAsync();
            output.WriteLine($"SIGKILL to redis-server at {before.FramesDone}/{Spec.Frames} frames; {keysBefore.Count} keys before");
            await Task.Delay(RedisOutage, ct);
            await cluster.Redis.RestartAsync(ct);
            var restarted = clock.Elapsed;
            var keysAfter = await KeysAsync(cluster.Redis.ConnectionString);
            output.WriteLine($"redis-server back (pid {cluster.Redis.Pid}) after {restarted.TotalSeconds:F2} s with {keysAfter.Count} keys");
            Assert.Empty(keysBefore.Except(keysAfter));

            var recovery = await ProcessChaosTests.ObserveRecoveryAsync(acme, jobId, victim: "", before, clock, output.WriteLine, ct);
            var final = await AfterStatusAsync(cluster, acme, jobId, ct);
            int frames = await JobChecks.AssertEveryFrameOnceAsync(cluster.Blobs, final, await reference, ct);
            int dead = 0;
            foreach (var silo in cluster.Silos) dead += await cluster.IsDeclaredDeadAsync(silo.Name) ? 1 : 0;
            Assert.Equal(0, dead); // a few seconds without the membership table must not cost a silo

            // Tenant state written before the crash (tenant, key, quota, weight) and after it (usage) is all there.
            var usage = await acme.UsageAsync(cancellationToken: ct);
            Assert.Equal(2, usage.Weight);
            Assert.Equal((2, 1_000, 600), (usage.Quota.MaxRunningJobs, usage.Quota.MaxQueuedFrames, usage.Quota.MaxFramesPerJob));
            Assert.Contains(issued.KeyId, usage.ActiveKeyIds);
            Assert.Equal(0, usage.Usage.RunningJobs);
            Assert.Equal(0, usage.Usage.QueuedFrames);
            Assert.Equal(1, usage.Usage.JobsSubmitted);
            Assert.Equal(Spec.Frames, usage.Usage.FramesRendered);
            Assert.Contains(await acme.ListAsync(ct), j => j.JobId == jobId && j.State == JobState.Completed);

            ReliabilityLog.Record(output, "redis-restart", new Dictionary<string, object?>
            {
                ["fault"] = $"SIGKILL of redis-server (appendonly, fsync always) at {before.FramesDone}/{Spec.Frames} frames, restarted after {RedisOutage.TotalSeconds:F0} s",
                ["framesChecked"] = frames,
                ["redisKeysBefore"] = keysBefore.Count,
                ["redisBackSeconds"] = restarted.TotalSeconds,
                ["firstNewFramesSeconds"] = ReliabilityLog.Seconds(recovery.FirstProgress),
                ["longestStallSeconds"] = ReliabilityLog.Seconds(recovery.LongestStall),
                ["completedSeconds"] = ReliabilityLog.Seconds(recovery.Terminal),
                ["retriedAttempts"] = final.Retries,
                ["unansweredStatusPolls"] = recovery.Unanswered,
                ["silosDeclaredDead"] = dead,
            });
        }
        catch
        {
            cluster.KeepLogs = true;
            cluster.DumpLogs();
            throw;
        }
    }

    [Fact]
    public async Task Azurite_down_for_10_s_mid_job_writes_retry_and_the_job_completes_with_every_frame_stored()
    {
        using var budget = new CancellationTokenSource(TestBudget);
        var ct = budget.Token;
        var reference = ReferenceFrames.Sha256Async(Spec, ct);
        await using var cluster = await ChaosCluster.StartAsync(output, cancellationToken: ct);
        try
        {
            var (jobId, before) = await ChaosCluster.SubmitAndRunToMidJobAsync(cluster.Admin, Spec, "Azurite could be killed", ct);

            var clock = Stopwatch.StartNew();
            // SIGTERM (SIGKILL after 5 s): a SIGKILLed Azurite forgets blobs acknowledged in its last ~5 s (see
            // AzuriteProcess.StopAsync), which real Azure Storage never does; that would test the emulator, not us.
            await cluster.Azurite.StopAsync(TimeSpan.FromSeconds(5));
            var stopped = clock.Elapsed;
            output.WriteLine($"Azurite stopped (SIGTERM) at {before.FramesDone}/{Spec.Frames} frames, gone after {stopped.TotalSeconds:F2} s");
            // While the store is down a frame can only be reported done if its put returned before the kill: at most
            // one 4-frame lease per worker. A worker reporting without storing would keep the count climbing.
            int maxDuringOutage = before.FramesDone;
            while (clock.Elapsed < AzuriteOutage)
            {
                if (await ChaosCluster.TryStatusAsync(cluster.Admin, jobId, cancellationToken: ct) is { } s) maxDuringOutage = Math.Max(maxDuringOutage, s.FramesDone);
                await Task.Delay(200, ct);
            }
            await cluster.Azurite.RestartAsync();
            var restarted = clock.Elapsed;
            output.WriteLine($"Azurite back after {restarted.TotalSeconds:F2} s; frames done rose {before.FramesDone} -> {maxDuringOutage} during the outage");
            int inFlightCapacity = cluster.Silos.Count * 4; // Devices:MaxLeaseFrames per worker, one worker per silo
            Assert.InRange(maxDuringOutage - before.FramesDone, 0, inFlightCapacity);

            var outageEnd = await ChaosCluster.TryStatusAsync(cluster.Admin, jobId, cancellationToken: ct) ?? before;
            var recovery = await ProcessChaosTests.ObserveRecoveryAsync(cluster.Admin, jobId, victim: "", outageEnd, clock, output.WriteLine, ct);
            int frames = await JobChecks.AssertEveryFrameOnceAsync(cluster.Blobs, recovery.Final, await reference, ct);
            int retryWarnings = cluster.LogLines("failed transiently").Count();
            Assert.True(retryWarnings > 0, "no blob retry was logged: the outage did not hit a write");

            ReliabilityLog.Record(output, "azurite-outage", new Dictionary<string, object?>
            {
                ["fault"] = $"Azurite stopped (SIGTERM) at {before.FramesDone}/{Spec.Frames} frames, restarted on the same port and data after {AzuriteOutage.TotalSeconds:F0} s",
                ["azuriteGoneSeconds"] = stopped.TotalSeconds,
                ["framesChecked"] = frames,
                ["framesReportedDuringOutage"] = maxDuringOutage - before.FramesDone,
                ["azuriteBackSeconds"] = restarted.TotalSeconds,
                ["blobRetryWarnings"] = retryWarnings,
                ["firstNewFramesSeconds"] = ReliabilityLog.Seconds(recovery.FirstProgress),
                ["longestStallSeconds"] = ReliabilityLog.Seconds(recovery.LongestStall),
                ["completedSeconds"] = ReliabilityLog.Seconds(recovery.Terminal),
                ["retriedAttempts"] = recovery.Final.Retries,
                ["unansweredStatusPolls"] = recovery.Unanswered,
            });
        }
        catch
        {
            cluster.KeepLogs = true;
            cluster.DumpLogs();
            throw;
        }
    }

    /// <summary>A completed job's status as read again after the fault (answered by the persisted record).</summary>
    static async Task<JobStatus> AfterStatusAsync(ChaosCluster cluster, ClusterClient.GenerationClient api, string jobId, CancellationToken ct) =>
        await ChaosCluster.WaitForAsync(api, jobId, s => s.IsTerminal, TimeSpan.FromSeconds(30), ct);

    static async Task<HashSet<string>> KeysAsync(string connectionString)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        var server = redis.GetServers().Single();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in server.KeysAsync(pattern: "*")) keys.Add(key.ToString());
        return keys;
    }
}
