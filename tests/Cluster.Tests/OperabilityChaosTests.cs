using System.Collections.Concurrent;
using ApiClient;
using Cluster.Tests.Chaos;
using Cluster.Tests.Scmctl;

namespace Cluster.Tests;

/// <summary>
/// Issue 16's operability check: the real scmctl binary runs `status`, `cluster`, `submit` and `watch` in loops against
/// three real silo processes (behind load-balancer-like proxies) while the coordinator's silo is killed with SIGKILL and
/// later Redis is stopped for a few seconds. No output may show a stack trace, every watch must end with the job's
/// terminal state, every submit must be accepted or refused as retryable (exit 7), a resubmit of the same id must never
/// make a second job, and the unavailability window of each operation is measured (docs/RELIABILITY.md).
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public class OperabilityChaosTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly TimeSpan TestBudget = TimeSpan.FromMinutes(5);
    static readonly TimeSpan RedisOutage = TimeSpan.FromSeconds(5);
    static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(90);
    const int Unavailable = global::Scmctl.ExitCodes.Unavailable;
    /// <summary>Short per-call deadline so that a loop samples the outage instead of riding through it in one run.</summary>
    static readonly string[] Deadline = ["--timeout", "10"];
    // Long enough to outlast the first successes of every loop on an idle machine (480 frames once came close).
    static readonly string[] LongJob = ["submit", "--model", "tiny", "--kind", "ImageSet", "--classes", "0,1,2,3,4,5,6,7,8,9", "--frames", "960", "--size", "16"];
    static readonly string[] SmallJob = ["submit", "--model", "tiny", "--kind", "ImageSet", "--classes", "1,2", "--frames", "8", "--size", "8"];
    static readonly string[] Operations = ["status", "cluster", "submit"];

    [Fact]
    public async Task Scmctl_loops_across_a_SIGKILL_of_the_job_coordinator_silo_and_a_Redis_stop_show_no_stack_trace_lose_no_watch_and_duplicate_no_job()
    {
        using var budget = new CancellationTokenSource(TestBudget);
        var ct = budget.Token;
        await using var cluster = await ChaosCluster.StartAsync(output, cancellationToken: ct);
        // One proxy per client, each trying the silos in another order: clients spread over the silos, and a dead silo's
        // refused connections send them on to the next, as a load balancer would.
        var targets = cluster.Silos.Select(s => s.HttpBase).ToArray();
        var proxies = Enumerable.Range(0, targets.Length).Select(i => new CuttingProxy([.. targets.Skip(i), .. targets.Take(i)], cutAfter: null)).ToArray();
        var loops = new ScmctlLoops();
        var watches = new ConcurrentBag<Task<LoopRun>>();
        var accepted = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        try
        {
            using var admin = new ScmApiClient(new ScmApiClientOptions { BaseAddress = proxies[0].Url, ApiKey = cluster.AdminKey });
            var tenantKey = (await admin.CreateTenantAsync("ops", new QuotaChange { MaxRunningJobs = 200, MaxQueuedFrames = 100_000 }, cancellationToken: ct)).ApiKey;
            using var tenant = new ScmApiClient(new ScmApiClientOptions { BaseAddress = proxies[0].Url, ApiKey = tenantKey });

            const string longId = "ops-long";
            var submitted = await loops.RunAsync("submit", proxies[0].Url, tenantKey, TimeSpan.FromSeconds(60), [.. LongJob, "--job-id", longId]);
            Assert.True(submitted.Ok, submitted.ToString());
            accepted.Add(longId);
            watches.Add(loops.RunAsync("watch", proxies[1].Url, tenantKey, TimeSpan.FromMinutes(5), "watch", longId));
            var statusLoop = loops.RepeatAsync("status", proxies[0].Url, tenantKey, ["status", longId, .. Deadline], TimeSpan.FromMilliseconds(300), stop.Token);
            var clusterLoop = loops.RepeatAsync("cluster", proxies[1].Url, cluster.AdminKey, ["cluster", .. Deadline], TimeSpan.FromMilliseconds(300), stop.Token);
            var submitLoop = SubmitLoopAsync(loops, proxies, tenantKey, accepted, watches, stop.Token);

            var before = await ChaosCluster.WaitForAsync(cluster.Api(tenantKey), longId, s => s.FramesDone >= 48 || s.IsTerminal, TimeSpan.FromMinutes(2), ct);
            await WaitUntilAsync(() => Operations.All(op => loops.SucceededSince(op, 0)), "a first success of every loop", ct);
            Assert.False(before.IsTerminal, "the long job ended before the kill; the test proves nothing");
            var victim = cluster.Silos.Single(s => s.Name == before.CoordinatorSilo);

            double killedAt = loops.Now;
            victim.Kill();
            output.WriteLine($"{killedAt:F1} s: SIGKILL to {victim.Name} (pid {victim.Pid}), coordinator of {longId} at {before.FramesDone}/480 frames");
            var detected = DetectAsync(cluster, victim.Name, loops, ct);
            await WaitUntilAsync(() => Operations.All(op => loops.SucceededSince(op, killedAt)), "every loop succeeding after the kill", ct);
            await Task.Delay(TimeSpan.FromSeconds(2), ct);

            double redisStoppedAt = loops.Now;
            await cluster.Redis.KillAsync();
            output.WriteLine($"{redisStoppedAt:F1} s: redis-server stopped (SIGKILL; appendonly, fsync always)");
            await Task.Delay(RedisOutage, ct);
            await cluster.Redis.RestartAsync(ct);
            double redisBackAt = loops.Now;
            output.WriteLine($"{redisBackAt:F1} s: redis-server answering again");
            await WaitUntilAsync(() => Operations.All(op => loops.SucceededSince(op, redisBackAt)), "every loop succeeding after Redis came back", ct);

            stop.Cancel();
            await Task.WhenAll(statusLoop, clusterLoop, submitLoop).WaitAsync(TimeSpan.FromMinutes(2), ct);
            var watched = await Task.WhenAll(watches).WaitAsync(TimeSpan.FromMinutes(3), ct);
            double? detectedAfter = await detected is { } d ? d - killedAt : null;
            var runs = loops.Runs;
            output.WriteLine($"{runs.Count} scmctl runs: {string.Join(", ", runs.GroupBy(r => r.Operation).Select(g => $"{g.Key} {g.Count()} ({g.Count(r => !r.Ok)} failed)"))}");
            foreach (var failed in runs.Where(r => !r.Ok))
                output.WriteLine($"  {failed.Operation} [{failed.Start:F1}-{failed.End:F1} s] exit {failed.Result.ExitCode}: {failed.Result.Stderr.Trim()}");
            // Issue 16, item 7: keep-alive calls of a silo's workers that failed (one line per streak) and came back.
            var keepAlive = cluster.LogLines("start worker for").Concat(cluster.LogLines("started again after")).ToList();
            foreach (var line in keepAlive) output.WriteLine($"  keep-alive: {line}");

            var stackTraces = loops.StackTraceLines().ToList();
            Assert.True(stackTraces.Count == 0, "stack traces in scmctl output:\n" + string.Join("\n", stackTraces.Take(20)));
            foreach (var watch in watched)
            {
                Assert.True(watch.Ok, watch.ToString());
                Assert.Contains($"job {watch.Arguments.Split(' ')[1]}: Completed", watch.Result.Stdout);
            }
            // Every submit was accepted or refused as retryable; status and cluster fail only as retryable too.
            var unexpected = runs.Where(r => r.Operation != "watch" && r.Result.ExitCode is not (0 or Unavailable)).ToList();
            Assert.True(unexpected.Count == 0, "runs with a non-retryable error:\n" + string.Join("\n", unexpected.Take(5)));

            // No duplicate: each client-chosen id once in the tenant's jobs; every accepted id there; nothing we did not submit.
            var jobs = await tenant.ListJobsAsync(cancellationToken: ct);
            var attempted = runs.Where(r => r.Operation == "submit").Select(r => JobIdOf(r.Arguments)).ToHashSet();
            Assert.Empty(jobs.GroupBy(j => j.JobId).Where(g => g.Count() > 1).Select(g => g.Key));
            Assert.Subset(jobs.Select(j => j.JobId).ToHashSet(), accepted.ToHashSet());
            Assert.Subset(attempted, jobs.Select(j => j.JobId).ToHashSet());
            var usage = await tenant.UsageAsync(ct);
            output.WriteLine($"tenant jobs listed {jobs.Count}, ids submitted {attempted.Count}, accepted {accepted.Count}, usage.jobsSubmitted {usage.Usage.JobsSubmitted}");

            var figures = new Dictionary<string, object?>
            {
                ["fault"] = $"SIGKILL of the coordinator's silo at {before.FramesDone}/480 frames, then redis-server stopped for {RedisOutage.TotalSeconds:F0} s; " +
                            "scmctl --timeout 10 behind a failover proxy per client",
                ["detectedDeadSeconds"] = detectedAfter is { } s ? Math.Round(s, 2) : null,
                ["redisDownSeconds"] = Math.Round(redisBackAt - redisStoppedAt, 2),
                ["runs"] = runs.Count,
                ["watches"] = watched.Length,
                ["workerStartFailureStreaks"] = keepAlive.Count(l => l.Contains("Could not start worker", StringComparison.Ordinal)),
            };
            foreach (var op in Operations)
            {
                figures[$"{op}BaselineSeconds"] = loops.BaselineSeconds(op, killedAt);
                figures[$"{op}AfterKill"] = loops.WindowAfter(op, killedAt);
                figures[$"{op}AfterRedisStop"] = loops.WindowAfter(op, redisStoppedAt);
            }
            ReliabilityLog.Record(output, "scmctl-loop", figures);
        }
        catch
        {
            stop.Cancel();
            cluster.KeepLogs = true;
            foreach (var run in loops.Runs.Where(r => !r.Ok).Take(10)) output.WriteLine(run.ToString());
            cluster.DumpLogs();
            throw;
        }
        finally
        {
            foreach (var proxy in proxies) await proxy.DisposeAsync();
        }
    }

    /// <summary>
    /// Submits small jobs under ids of its own choosing. After a retryable failure it submits the same id again, as a
    /// script would: that must end in the job of that id, never a second one. Each accepted job gets a watch.
    /// </summary>
    static async Task SubmitLoopAsync(ScmctlLoops loops, CuttingProxy[] proxies, string key, ConcurrentBag<string> accepted,
        ConcurrentBag<Task<LoopRun>> watches, CancellationToken stop)
    {
        for (int n = 0; !stop.IsCancellationRequested; n++)
        {
            var id = $"ops-{n:D3}";
            for (int attempt = 0; attempt < 8; attempt++) // the id is finished even after stop: a pending id is the point
            {
                var run = await loops.RunAsync("submit", proxies[2].Url, key, TimeSpan.FromSeconds(90), [.. SmallJob, "--job-id", id, .. Deadline]);
                if (run.Ok)
                {
                    accepted.Add(id);
                    watches.Add(loops.RunAsync("watch", proxies[n % proxies.Length].Url, key, TimeSpan.FromMinutes(3), "watch", id));
                    break;
                }
                if (run.Result.ExitCode != Unavailable) break; // the checks report it
            }
            try { await Task.Delay(TimeSpan.FromMilliseconds(700), stop); }
            catch (OperationCanceledException) { }
        }
    }

    static string JobIdOf(string arguments)
    {
        var words = arguments.Split(' ');
        return words[Array.IndexOf(words, "--job-id") + 1];
    }

    /// <summary>When the membership table lists the silo as dead, on the loops' clock (null if not within a minute).</summary>
    static async Task<double?> DetectAsync(ChaosCluster cluster, string silo, ScmctlLoops loops, CancellationToken ct)
    {
        double start = loops.Now;
        while (loops.Now - start < 60)
        {
            if (await cluster.IsDeclaredDeadAsync(silo)) return loops.Now;
            await Task.Delay(100, ct);
        }
        return null;
    }

    static async Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + RecoveryLimit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no {what} within {RecoveryLimit.TotalSeconds:F0} s");
            await Task.Delay(100, ct);
        }
    }
}
