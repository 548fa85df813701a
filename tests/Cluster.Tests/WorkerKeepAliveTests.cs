using System.Diagnostics;
using Grains.Interfaces;
using Grains.Placement;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Runtime;

namespace Cluster.Tests;

/// <summary>
/// Issue 16, item 7: the silo's periodic IWorkerGrain.Start() keep-alive timed out after 30 s on the scheduler's silo.
/// A worker answers Start() and GetInfo() promptly whether it is idle (long-polling a local scheduler) or busy, and a
/// worker that Orleans deactivates (the cause of the time-outs: see <see cref="WorkerDirectoryOwnerKillTests"/>) finishes
/// deactivating and answers again as a new activation.
/// </summary>
public class WorkerKeepAliveTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_worker_on_the_schedulers_silo_answers_start_and_get_info_promptly_when_idle_and_when_busy()
    {
        var faults = new TestFaults();
        // One silo: the scheduler is necessarily on the worker's silo.
        await using var harness = await ClusterHarness.StartAsync(silos: 1, faults: faults,
            settings: new Dictionary<string, string?> { ["Scheduler:LeaseTimeout"] = "00:02:00" });
        var silo = harness.Cluster.Silos[0].ServiceProvider.GetRequiredService<ILocalSiloDetails>().Name;
        var worker = harness.Client.GetGrain<IWorkerGrain>(WorkerKey.Of(silo, "cpu"));
        await WaitStartedAsync(worker);

        await AnswersPromptlyAsync(worker, "idle");

        var acme = harness.Api((await harness.AdminApi.CreateTenantAsync("acme")).ApiKey);
        var (jobId, submitted) = await acme.SubmitAsync(new JobSpec
        {
            Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1], Frames = 8, Seed = 1, Steps = 1, OutputSize = 16,
        }, "held-busy");
        Assert.True(submitted.Accepted, string.Join("; ", submitted.Errors));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!faults.Seen.Any(s => s.JobId == "held-busy") && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains(faults.Seen, s => s.JobId == "held-busy");

        var inSilo = harness.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IWorkerGrain>(WorkerKey.Of(silo, "cpu"));
        try
        {
            await AnswersPromptlyAsync(worker, "busy");
            await AnswersPromptlyAsync(inSilo, "busy, from inside the silo");
        }
        finally { faults.HeldGate.TrySetResult(); }
    }

    [Fact]
    public async Task After_a_silo_dies_the_surviving_worker_answers_start_and_get_info_promptly()
    {
        var faults = new TestFaults { SlowJobDelay = TimeSpan.FromMilliseconds(300) };
        await using var harness = await ClusterHarness.StartAsync(silos: 2, faults: faults);
        var survivor = harness.Cluster.Silos[0].ServiceProvider.GetRequiredService<ILocalSiloDetails>().Name;
        var worker = harness.Client.GetGrain<IWorkerGrain>(WorkerKey.Of(survivor, "cpu"));
        await WaitStartedAsync(worker);
        var acme = harness.Api((await harness.AdminApi.CreateTenantAsync("acme")).ApiKey);
        var (_, submitted) = await acme.SubmitAsync(new JobSpec
        {
            Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1], Frames = 64, Seed = 1, Steps = 1, OutputSize = 16,
        }, "slow-survive");
        Assert.True(submitted.Accepted, string.Join("; ", submitted.Errors));
        var snapshot = await harness.Client.GetGrain<ISchedulerGrain>(0).Snapshot();
        output.WriteLine($"scheduler snapshot before the kill: {snapshot.Leases.Length} leases");
        await Task.Delay(1000);
        await harness.Cluster.KillSiloAsync(harness.Cluster.Silos[1]);
        // Wherever the scheduler was, it is on the survivor now (or re-activates there on the next lease).
        await AnswersPromptlyAsync(worker, "after kill", rounds: 10);
        // The silo's own keep-alive calls from outside any grain (WorkerStarter): the same path as here.
        var inSilo = harness.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IWorkerGrain>(WorkerKey.Of(survivor, "cpu"));
        await AnswersPromptlyAsync(inSilo, "after kill, from inside the silo", rounds: 10);
    }

    [Fact]
    public async Task A_worker_asked_to_deactivate_while_its_lease_loop_runs_finishes_deactivating_and_answers_start_again()
    {
        // An idle worker sits in its lease loop, long-polling the scheduler (2 s polls, no job).
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var silo = harness.Cluster.Silos[0].ServiceProvider.GetRequiredService<ILocalSiloDetails>().Name;
        var worker = harness.Client.GetGrain<IWorkerGrain>(WorkerKey.Of(silo, "cpu"));
        await WaitStartedAsync(worker);

        // What Orleans does to an activation whose grain-directory entry was on a silo that died (see
        // WorkerDirectoryOwnerKillTests for that case with real processes), or to a duplicate activation.
        await worker.Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask().WaitAsync(TimeSpan.FromSeconds(3));
        // Before issue 16.7's fix the activation never finished deactivating (the timer tick never returned) and held
        // every call until Orleans gives up on a stuck deactivation (SiloMessagingOptions.MaxRequestProcessingTime, 2 h).
        await WorkerAnswers.WithinAsync(worker, "after DeactivateOnIdle", TimeSpan.FromSeconds(15), output.WriteLine);
        await AnswersPromptlyAsync(worker, "after DeactivateOnIdle", rounds: 3);
    }

    async Task AnswersPromptlyAsync(IWorkerGrain worker, string what, int rounds = 5)
    {
        for (int i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            await worker.Start().WaitAsync(TimeSpan.FromSeconds(3));
            var info = await worker.GetInfo().WaitAsync(TimeSpan.FromSeconds(3));
            output.WriteLine($"{what}: Start + GetInfo in {clock.ElapsedMilliseconds} ms ({info.WorkerId})");
            await Task.Delay(300);
        }
    }

    static async Task WaitStartedAsync(IWorkerGrain worker)
    {
        // The silo's WorkerStarter starts it once the host is up; this waits for that (or starts it, harmlessly).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try { await worker.Start().WaitAsync(TimeSpan.FromSeconds(10)); return; }
            catch (Exception) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
        }
    }
}
