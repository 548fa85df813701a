using Grains.Interfaces;
using Grains.Scheduling;

namespace Cluster.Tests;

[Trait("Category", "Unit")]
public class FairShareQueueTests
{
    sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    static WorkItem Item(string tenant, string job, int batch, int frames = 4, int priority = 0, string model = "m", int attempt = 0) => new()
    {
        JobId = job, Tenant = tenant, ItemIndex = batch, FirstFrame = batch * frames, FrameCount = frames, Attempt = attempt,
        Spec = new JobSpec { ModelId = model, Priority = priority }, BlobPrefix = $"tenants/{tenant}/jobs/{job}/", SubmittedAt = new DateTime(2026, 1, 1).AddSeconds(batch),
    };

    [Fact]
    public void Duplicates_of_the_same_attempt_are_ignored_but_a_new_attempt_is_queued()
    {
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), new ManualClock());
        Assert.True(queue.Add(Item("a", "j", 0)));
        Assert.False(queue.Add(Item("a", "j", 0)));
        Assert.True(queue.Add(Item("a", "j", 0, attempt: 1)));
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public void The_tenant_with_the_lowest_weighted_usage_goes_first_and_usage_decays_with_the_half_life()
    {
        var clock = new ManualClock();
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), clock);
        for (int i = 0; i < 4; i++) { queue.Add(Item("a", "ja", i)); queue.Add(Item("b", "jb", i)); }
        queue.Charge("a", 10);
        Assert.Equal("b", queue.Take("w", 4, ["w"]).Single().Tenant);
        queue.Charge("b", 30);
        Assert.Equal("a", queue.Take("w", 4, ["w"]).Single().Tenant);

        queue.SetWeight("b", 4); // b may use 4x as much: 30 / 4 < 10
        Assert.Equal("b", queue.Take("w", 4, ["w"]).Single().Tenant);

        clock.Now += TimeSpan.FromMinutes(1);
        var usage = queue.Snapshot().ToDictionary(t => t.Tenant, t => t.DecayedUsage);
        Assert.Equal(5, usage["a"], 6);
        Assert.Equal(15, usage["b"], 6);
    }

    [Fact]
    public void Within_a_tenant_higher_priority_then_older_work_goes_first()
    {
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), new ManualClock());
        queue.Add(Item("a", "low", 0));
        queue.Add(Item("a", "high", 5, priority: 3));
        queue.Add(Item("a", "low", 1));
        Assert.Equal(["high", "low", "low"], Enumerable.Range(0, 3).Select(_ => queue.Take("w", 4, ["w"]).Single().JobId));
    }

    [Fact]
    public void A_lease_combines_items_of_several_jobs_that_share_model_and_schedule_up_to_the_frame_limit()
    {
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), new ManualClock());
        queue.Add(Item("a", "j1", 0, frames: 4));
        queue.Add(Item("b", "j2", 0, frames: 4, model: "other"));
        queue.Add(Item("b", "j3", 0, frames: 4));
        queue.Add(Item("b", "j3", 1, frames: 4));
        var lease = queue.Take("w", 8, ["w"]);
        Assert.Equal(["j1", "j3"], lease.Select(i => i.JobId));
        Assert.All(lease, i => Assert.Equal("m", i.Spec.ModelId));
        Assert.Equal(2, queue.Count); // j2 (another model) and j3's second item (no room)
    }

    [Fact]
    public void A_blocklisted_worker_gets_no_items_of_that_job_and_withdrawing_a_job_removes_its_items()
    {
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), new ManualClock());
        queue.Add(Item("a", "j1", 0));
        queue.Add(Item("a", "j2", 0));
        queue.Blocklist(JobKey.Of("a", "j1"), "bad");
        Assert.Equal("j2", queue.Take("bad", 8, ["bad", "good"]).Single().JobId);
        Assert.Empty(queue.Take("bad", 8, ["bad", "good"]));
        Assert.Equal(1, queue.RemoveJob(JobKey.Of("a", "j1")));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void The_same_job_id_in_two_tenants_is_two_jobs()
    {
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), new ManualClock());
        Assert.True(queue.Add(Item("a", "j", 0)));
        Assert.True(queue.Add(Item("b", "j", 0))); // not dropped as a duplicate of a's item
        queue.Blocklist(JobKey.Of("a", "j"), "bad");
        Assert.Equal("b", queue.Take("bad", 8, ["bad", "good"]).Single().Tenant);
        Assert.Equal(1, queue.RemoveJob(JobKey.Of("a", "j")));
        Assert.Equal(0, queue.Count);
    }

    /// <summary>
    /// When every live worker is blocklisted for a job (its other workers died, or a lease whose grant was lost with a dying
    /// scheduler silo expired and blamed the survivor for all its items), the blocklist yields instead of stranding the job
    /// (ScmctlFailoverTests stalled at 1,940 of 2,000 frames this way).
    /// </summary>
    [Fact]
    public void A_blocklist_yields_when_every_live_worker_is_blocklisted_for_the_job()
    {
        var queue = new FairShareQueue(TimeSpan.FromMinutes(1), new ManualClock());
        queue.Add(Item("a", "j1", 0));
        queue.Blocklist(JobKey.Of("a", "j1"), "survivor");
        Assert.Empty(queue.Take("survivor", 8, ["survivor", "other"]));
        queue.Blocklist(JobKey.Of("a", "j1"), "other");
        Assert.Equal("j1", queue.Take("survivor", 8, ["survivor", "other"]).Single().JobId);
        queue.Add(Item("a", "j1", 1));
        Assert.Equal("j1", queue.Take("survivor", 8, ["survivor"]).Single().JobId);
    }
}
