using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>Weighted fair sharing between tenants, measured on one worker (one silo, one CPU device).</summary>
public class FairnessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static JobSpec Images(int frames) => new()
    {
        Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [0, 1, 2, 3], Frames = frames, Seed = 11, Steps = 1, OutputSize = 16, ItemFrames = 4,
    };

    /// <summary>
    /// Items of 4 frames, leases of up to 8 frames (2 items). Bound: A's lease in flight when B is submitted plus two
    /// more granted while B's submit is admitted and offered (a pipelining worker asks for its next lease while the
    /// previous one is still being stored, so it takes leases at a faster pace).
    /// </summary>
    const int MaxForeignBatches = 6;

    [Fact]
    public async Task A_small_job_of_a_second_tenant_overtakes_a_large_queued_job()
    {
        var faults = new TestFaults();
        await using var harness = await ClusterHarness.StartAsync(silos: 1, faults: faults);
        var a = harness.Api((await harness.AdminApi.CreateTenantAsync("big", new QuotaPatch { MaxFramesPerJob = 2000 })).ApiKey);
        var b = harness.Api((await harness.AdminApi.CreateTenantAsync("small")).ApiKey);
        Assert.True((await a.SubmitAsync(Images(2000), "big-job")).Result.Accepted);
        while ((await a.GetStatusAsync("big-job"))!.FramesDone < 40) await Task.Delay(20);

        int mark = faults.Order.Count;
        Assert.True((await b.SubmitAsync(Images(40), "small-job")).Result.Accepted);
        var small = await JobWaiter.UntilTerminalAsync(harness.Client, "small-job", TimeSpan.FromSeconds(60), tenant: "small");
        Assert.Equal(JobState.Completed, small.State);

        var after = faults.Order.Skip(mark).ToList();
        int lastSmall = after.FindLastIndex(o => o.JobId == "small-job");
        int bigBatchesMeanwhile = after.Take(lastSmall + 1).Count(o => o.JobId == "big-job");
        var big = await a.GetStatusAsync("big-job");
        output.WriteLine($"small job's 10 batches ran while big-job ran {bigBatchesMeanwhile} batches; big-job at {big!.FramesDone}/2000 frames");
        Assert.True(bigBatchesMeanwhile <= MaxForeignBatches, $"{bigBatchesMeanwhile} of big-job's batches ran before small-job finished");
        Assert.True(big.FramesDone < 2000);
        await a.CancelAsync("big-job");
    }

    /// <summary>Equal weights: 50 % within 5 points (10 % of 50/50); weight 3 vs 1: 75 % within 5 points.</summary>
    [Theory]
    [InlineData(1.0, 0.50)]
    [InlineData(3.0, 0.75)]
    public async Task Two_saturating_tenants_split_device_seconds_by_weight(double weightA, double expectedShareA)
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var quota = new QuotaPatch { MaxFramesPerJob = 2000 };
        var a = harness.Api((await harness.AdminApi.CreateTenantAsync("even-a", quota, weight: weightA)).ApiKey);
        var b = harness.Api((await harness.AdminApi.CreateTenantAsync("even-b", quota)).ApiKey);
        await WarmUpAsync(harness);
        await Task.WhenAll(a.SubmitAsync(Images(400), "even-a-job"), b.SubmitAsync(Images(400), "even-b-job"));

        JobStatus sa, sb;
        while (true)
        {
            var both = await Task.WhenAll(a.GetStatusAsync("even-a-job"), b.GetStatusAsync("even-b-job"));
            (sa, sb) = (both[0]!, both[1]!);
            if (sa.IsTerminal || sb.IsTerminal) break;
            await Task.Delay(20);
        }
        double share = sa.DeviceSeconds / (sa.DeviceSeconds + sb.DeviceSeconds);
        output.WriteLine($"device-seconds: A {sa.DeviceSeconds:F3} ({sa.FramesDone} frames), B {sb.DeviceSeconds:F3} ({sb.FramesDone} frames); A's share {share:P1}");
        Assert.InRange(share, expectedShareA - 0.05, expectedShareA + 0.05);
        var ua = await a.UsageAsync();
        Assert.True(ua.Usage.DeviceSeconds24h > 0 && ua.Usage.Frames24h > 0);
    }

    /// <summary>
    /// The worker's first batch includes loading the model and warming up the runtime (about a second here): run it
    /// for a third tenant, so that it is not charged to whichever of the measured tenants happens to go first.
    /// </summary>
    static async Task WarmUpAsync(ClusterHarness harness)
    {
        var warm = harness.Api((await harness.AdminApi.CreateTenantAsync("warm-up")).ApiKey);
        Assert.True((await warm.SubmitAsync(Images(8), "warm-up-job")).Result.Accepted);
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "warm-up-job", TimeSpan.FromSeconds(60), tenant: "warm-up");
        Assert.Equal(JobState.Completed, status.State);
    }

    [Fact]
    public async Task Weights_set_by_the_admin_reach_the_scheduler()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var key = await harness.AdminApi.CreateTenantAsync("heavy");
        await harness.AdminApi.SetWeightAsync("heavy", 4);
        var t = harness.Api(key.ApiKey);
        Assert.Equal(4, (await t.UsageAsync()).Weight);
        var snapshot = await harness.Client.GetGrain<ISchedulerGrain>(0).Snapshot();
        Assert.Equal(4, snapshot.Tenants.Single(x => x.Tenant == "heavy").Weight);
        var refused = await Assert.ThrowsAsync<RejectedException>(() => harness.AdminApi.SetWeightAsync("heavy", 0));
        Assert.Equal(RejectionKind.Invalid, refused.Rejection.Kind);
    }
}
