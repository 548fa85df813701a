using System.Diagnostics;
using Cluster.Tests.Chaos;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// Three real silo processes (Redis clustering, Redis grain storage and reminders, Azurite blobs, all private
/// instances); one is killed with SIGKILL mid-job. The job must complete with every frame exactly once and the
/// checksums of an unfailed run. Detection and recovery times are measured and logged (docs/RELIABILITY.md).
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public class ProcessChaosTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Long enough that the kill lands mid-job and recovery is visible; 4-frame items, 16 px frames.</summary>
    internal static readonly JobSpec Spec = new()
    {
        Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = 480, Seed = 11, OutputSize = 16,
    };

    static readonly TimeSpan TestBudget = TimeSpan.FromMinutes(6);

    [Fact]
    public Task Kill_9_of_a_worker_silo_mid_job_the_job_completes_with_every_frame_once_and_reference_checksums() =>
        KillMidJobAsync(killCoordinatorSilo: false, "kill9-worker-silo");

    [Fact]
    public Task Kill_9_of_the_coordinators_silo_mid_job_the_job_completes_with_every_frame_once_and_reference_checksums() =>
        KillMidJobAsync(killCoordinatorSilo: true, "kill9-coordinator-silo");

    async Task KillMidJobAsync(bool killCoordinatorSilo, string testName)
    {
        using var budget = new CancellationTokenSource(TestBudget);
        var ct = budget.Token;
        var reference = ReferenceFrames.Sha256Async(Spec, ct); // computed while the cluster starts
        await using var cluster = await ChaosCluster.StartAsync(output, cancellationToken: ct);
        try
        {
            var (jobId, before) = await ChaosCluster.SubmitAndRunToMidJobAsync(cluster.Admin, Spec, "a silo could be killed", ct);
            var coordinatorSilo = before.CoordinatorSilo ?? throw new InvalidOperationException("status names no coordinator silo");
            var victim = killCoordinatorSilo
                ? cluster.Silos.Single(s => s.Name == coordinatorSilo)
                : cluster.Silos.First(s => s.Name != coordinatorSilo);

            var clock = Stopwatch.StartNew();
            victim.Kill();
            output.WriteLine($"SIGKILL to {victim.Name} (pid {victim.Pid}); coordinator on {coordinatorSilo}; {before.FramesDone}/{Spec.Frames} frames, {before.Retries} retries");

            var detection = WaitDeclaredDeadAsync(cluster, victim.Name, clock, ct);
            var recovery = await ObserveRecoveryAsync(cluster.Admin, jobId, victim.Name, before, clock, output.WriteLine, ct);
            var detectedAfter = await detection;
            output.WriteLine($"declared dead after {detectedAfter?.TotalSeconds:F2} s; coordinator answering again on {recovery.Final.CoordinatorSilo} " +
                $"after {recovery.CoordinatorBack?.TotalSeconds:F2} s; first retry after {recovery.FirstRetry?.TotalSeconds:F2} s; " +
                $"first new frames after {recovery.FirstProgress?.TotalSeconds:F2} s; longest stall {recovery.LongestStall.TotalSeconds:F2} s; " +
                $"job {recovery.Final.State} after {recovery.Terminal.TotalSeconds:F1} s");

            Assert.NotNull(detectedAfter);
            Assert.NotEqual(victim.Name, recovery.Final.CoordinatorSilo);
            int frames = await JobChecks.AssertEveryFrameOnceAsync(cluster.Blobs, recovery.Final, await reference, ct);
            ReliabilityLog.Record(output, testName, new Dictionary<string, object?>
            {
                ["fault"] = $"SIGKILL of {(killCoordinatorSilo ? "the coordinator's silo" : "a worker silo (not the coordinator's)")} at {before.FramesDone}/{Spec.Frames} frames",
                ["framesChecked"] = frames,
                ["detectedDeadSeconds"] = ReliabilityLog.Seconds(detectedAfter),
                ["coordinatorAnsweringSeconds"] = ReliabilityLog.Seconds(recovery.CoordinatorBack),
                ["firstRetrySeconds"] = ReliabilityLog.Seconds(recovery.FirstRetry),
                ["firstNewFramesSeconds"] = ReliabilityLog.Seconds(recovery.FirstProgress),
                ["longestStallSeconds"] = ReliabilityLog.Seconds(recovery.LongestStall),
                ["completedSeconds"] = ReliabilityLog.Seconds(recovery.Terminal),
                ["retriedAttempts"] = recovery.Final.Retries,
                ["unansweredStatusPolls"] = recovery.Unanswered,
                ["jobWallSeconds"] = (recovery.Final.CompletedAt - recovery.Final.StartedAt)?.TotalSeconds,
            });
        }
        catch
        {
            cluster.KeepLogs = true;
            cluster.DumpLogs();
            throw;
        }
    }

    /// <summary>Kill -> the membership table lists the silo as dead (null if that never happened within a minute).</summary>
    static async Task<TimeSpan?> WaitDeclaredDeadAsync(ChaosCluster cluster, string siloName, Stopwatch clock, CancellationToken ct)
    {
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            if (await cluster.IsDeclaredDeadAsync(siloName)) return clock.Elapsed;
            await Task.Delay(100, ct);
        }
        return null;
    }

    /// <param name="FirstRetry">A lost lease came back as a failed attempt (null when the scheduler died with the silo:
    /// then the coordinators' re-offers restore the work without counting an attempt).</param>
    /// <param name="LongestStall">Longest time without a new frame, from the fault to completion.</param>
    internal sealed record Recovery(JobStatus Final, TimeSpan Terminal, TimeSpan? CoordinatorBack, TimeSpan? FirstRetry, TimeSpan? FirstProgress,
        TimeSpan LongestStall, int Unanswered);

    /// <summary>
    /// Polls the job until it is terminal, noting when its coordinator answers from a live silo, when a lost lease came
    /// back as a failed attempt (retries go up), when new frames were stored again and the longest stall.
    /// </summary>
    internal static async Task<Recovery> ObserveRecoveryAsync(ClusterClient.GenerationClient api, string jobId, string victim, JobStatus before, Stopwatch clock,
        Action<string> log, CancellationToken ct)
    {
        var lastLog = clock.Elapsed;
        Exception? lastError = null;
        TimeSpan? coordinatorBack = null, firstRetry = null, firstProgress = null;
        TimeSpan lastNewFrames = TimeSpan.Zero, longestStall = TimeSpan.Zero;
        int unanswered = 0, frames = before.FramesDone;
        while (clock.Elapsed < TimeSpan.FromMinutes(4))
        {
            var status = await ChaosCluster.TryStatusAsync(api, jobId, e => lastError = e, ct);
            if (clock.Elapsed - lastLog > TimeSpan.FromSeconds(10))
            {
                lastLog = clock.Elapsed;
                string seen = status is null
                    ? $"no status: {lastError?.GetType().Name}: {lastError?.Message}"
                    : $"{status.State}, {status.FramesDone} frames, {status.Retries} retries, coordinator on {status.CoordinatorSilo}";
                log($"{clock.Elapsed.TotalSeconds:F1} s: {seen}");
            }
            if (status is null) unanswered++;
            else
            {
                if (coordinatorBack is null && status.CoordinatorSilo != victim) coordinatorBack = clock.Elapsed;
                if (firstRetry is null && status.Retries > before.Retries) firstRetry = clock.Elapsed;
                if (firstProgress is null && status.FramesDone > before.FramesDone) firstProgress = clock.Elapsed;
                if (status.FramesDone > frames || status.IsTerminal)
                {
                    longestStall = TimeSpan.FromTicks(Math.Max(longestStall.Ticks, (clock.Elapsed - lastNewFrames).Ticks));
                    lastNewFrames = clock.Elapsed;
                    frames = status.FramesDone;
                }
                if (status.IsTerminal) return new Recovery(status, clock.Elapsed, coordinatorBack, firstRetry, firstProgress, longestStall, unanswered);
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"job {jobId} not terminal 4 min after the fault");
    }
}
