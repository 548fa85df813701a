using Grains.Interfaces;

namespace Cluster.Tests;

public class FailureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static JobSpec Images(int frames) => new()
    {
        Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = frames, Seed = 5, Steps = 2, OutputSize = 16,
    };

    [Fact]
    public async Task Silo_killed_mid_job_the_job_completes_with_every_frame_once_and_the_same_checksums_as_an_unfailed_run()
    {
        var faults = new TestFaults { SlowJobDelay = TimeSpan.FromMilliseconds(100) };
        // Redis storage: in-memory grain state lives in grains spread over the silos and dies with them.
        await using var harness = await ClusterHarness.StartAsync(silos: 3, faults: faults, storage: "Redis");
        var spec = Images(96);
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "slow-kill")).Submit(spec, "default")).Accepted);

        var victim = harness.Cluster.Silos[2];
        var victimName = victim.SiloAddress.ToString();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        // Kill only once the victim's worker holds work of this job.
        while (!faults.Seen.Any(s => s.JobId == "slow-kill" && s.Worker.StartsWith(victim.Name + "/", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        var statusBefore = await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "slow-kill")).GetStatus();
        Assert.True(statusBefore!.FramesDone < 96, "the job finished before the silo could be killed");
        output.WriteLine($"killing {victim.Name} ({victimName}) at {statusBefore.FramesDone}/96 frames");
        await harness.Cluster.KillSiloAsync(victim);

        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "slow-kill", TimeSpan.FromSeconds(120), output.WriteLine);
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(96, status.FramesDone);
        output.WriteLine($"completed with {status.Retries} retried attempts");

        var failed = await ManifestReader.ReadAsync(harness.Blobs, status.ManifestBlob!);
        Assert.Equal(Enumerable.Range(0, 96), failed.Select(f => f.Index));
        Assert.Equal(96, failed.Select(f => f.Blob).Distinct().Count());

        faults.SlowJobDelay = TimeSpan.Zero;
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "reference")).Submit(spec, "default")).Accepted);
        var reference = await JobWaiter.UntilTerminalAsync(harness.Client, "reference", TimeSpan.FromSeconds(60));
        var unfailed = await ManifestReader.ReadAsync(harness.Blobs, reference.ManifestBlob!);
        Assert.Equal(unfailed.Select(f => f.Sha256), failed.Select(f => f.Sha256));
    }

    [Fact]
    public async Task Poison_batch_hits_the_retry_limit_and_fails_only_its_job()
    {
        var faults = new TestFaults();
        faults.Poisoned[("poison", 2)] = true;
        await using var harness = await ClusterHarness.StartAsync(silos: 2, faults: faults);
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "poison")).Submit(Images(24), "default")).Accepted);
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "healthy")).Submit(Images(24), "default")).Accepted);

        var poisoned = await JobWaiter.UntilTerminalAsync(harness.Client, "poison", TimeSpan.FromSeconds(60));
        var healthy = await JobWaiter.UntilTerminalAsync(harness.Client, "healthy", TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Failed, poisoned.State);
        Assert.Contains("item 2", poisoned.Error);
        Assert.Contains("failed 3 times", poisoned.Error);
        Assert.Contains("poison item 2", poisoned.Error);
        Assert.Null(poisoned.ManifestBlob);
        Assert.Equal(3, faults.Seen.Count(s => s.JobId == "poison" && s.Batch == 2));
        Assert.Equal(JobState.Completed, healthy.State);
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_and_withdraws_its_queued_work()
    {
        var faults = new TestFaults { SlowJobDelay = TimeSpan.FromMilliseconds(200) };
        await using var harness = await ClusterHarness.StartAsync(silos: 1, faults: faults);
        var coordinator = harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "slow-cancel"));
        Assert.True((await coordinator.Submit(Images(200), "default")).Accepted);
        while ((await coordinator.GetStatus())!.FramesDone == 0) await Task.Delay(20);

        Assert.True(await coordinator.Cancel());
        Assert.False(await coordinator.Cancel());
        var status = await coordinator.GetStatus();
        Assert.Equal(JobState.Cancelled, status!.State);
        await Task.Delay(1000);
        var snapshot = await harness.Client.GetGrain<ISchedulerGrain>(0).Snapshot();
        Assert.Equal(0, snapshot.Tenants.Sum(t => t.QueuedItems));
        int seenAfterCancel = faults.Seen.Count(s => s.JobId == "slow-cancel");
        await Task.Delay(1000);
        Assert.Equal(seenAfterCancel, faults.Seen.Count(s => s.JobId == "slow-cancel"));
        Assert.True(status.FramesDone < 200);
    }
}
