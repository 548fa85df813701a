using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// Submits cut by a silo that just died (found by the scmctl chaos loop, docs/RELIABILITY.md): a retry of the same id
/// must get the job, not a conflict over a reservation without one; and a job that was stored must also run.
/// </summary>
public class SubmitFailureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// Stands in for a job index grain whose silo was just killed: placing a job of an "index-down" id fails once (the
    /// submit's call); the coordinator's heartbeat then finds the index back.
    /// </summary>
    sealed class IndexGrainOutage : IIncomingGrainCallFilter
    {
        public static int FailuresLeft;

        public Task Invoke(IIncomingGrainCallContext context) =>
            context.InterfaceMethod?.DeclaringType == typeof(IJobIndexGrain) && context.InterfaceMethod.Name == nameof(IJobIndexGrain.Place)
            && context.Request.GetArgument(1) is string jobId && jobId.StartsWith("index-down", StringComparison.Ordinal)
            && Interlocked.Decrement(ref FailuresLeft) >= 0
                ? throw new SiloUnavailableException("simulated: the job index grain's silo is not answering")
                : context.Invoke();
    }

    /// <summary>
    /// Stands in for a coordinator whose silo is killed during a submit: while Down, "orphan" jobs' coordinators answer
    /// the submit's first call (its check that the id is free) and none after it (the submit, the check after its failure).
    /// </summary>
    sealed class CoordinatorOutage : IIncomingGrainCallFilter
    {
        static volatile bool down;
        static int answersLeft;

        public static bool Down
        {
            set { answersLeft = 1; down = value; }
        }

        public Task Invoke(IIncomingGrainCallContext context) =>
            down && context.InterfaceMethod?.DeclaringType == typeof(IJobCoordinatorGrain) && context.TargetId.Key.ToString()!.Contains("/orphan", StringComparison.Ordinal)
                 && Interlocked.Decrement(ref answersLeft) < 0
                ? throw new SiloUnavailableException("simulated: the coordinator's silo is not answering")
                : context.Invoke();
    }

    [Fact]
    public async Task A_retried_submit_takes_over_the_reservation_a_failed_one_left_and_the_job_runs_once()
    {
        CoordinatorOutage.Down = false;
        await using var harness = await ClusterHarness.StartAsync(silos: 1, configure: silo => silo.AddIncomingGrainCallFilter<CoordinatorOutage>());
        var api = harness.Client.GetGrain<IClusterApiGrain>(0);
        var acme = await api.CreateTenant(harness.AdminKey, "acme");
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 8, OutputSize = 8 };

        CoordinatorOutage.Down = true;
        try { await Assert.ThrowsAnyAsync<Exception>(() => api.Submit(acme.ApiKey, "orphan-1", spec)); } // the tenant has reserved the id
        finally { CoordinatorOutage.Down = false; }

        var retried = await api.Submit(acme.ApiKey, "orphan-1", spec);
        Assert.True(retried.Accepted, retried.Rejection?.ToString());
        var again = await api.Submit(acme.ApiKey, "orphan-1", spec); // the job exists now: a conflict, as for any taken id
        Assert.Equal(RejectionKind.Conflict, again.Rejection?.Kind);

        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "orphan-1", TimeSpan.FromSeconds(60), output.WriteLine, tenant: "acme");
        Assert.Equal(JobState.Completed, status.State);
        var usage = (await api.Usage(acme.ApiKey)).Usage;
        Assert.Equal((0, 8L), (usage.RunningJobs, usage.FramesRendered)); // one reservation, released once
    }

    /// <summary>
    /// The takeover above is for a retry of the same spec only. Another spec under the id of a failed submit (here one
    /// over the tenant's frame quota, which only the first spec was checked against) is refused as a conflict and does
    /// not run; the retry of the first spec still gets its job; and a finished job's id is refused before anything is
    /// reserved, leaving no reservation behind.
    /// </summary>
    [Fact]
    public async Task Only_a_retry_of_the_same_spec_takes_over_a_reservation_and_a_used_id_reserves_nothing()
    {
        CoordinatorOutage.Down = false;
        await using var harness = await ClusterHarness.StartAsync(silos: 1, configure: silo => silo.AddIncomingGrainCallFilter<CoordinatorOutage>());
        var api = harness.Client.GetGrain<IClusterApiGrain>(0);
        var acme = await api.CreateTenant(harness.AdminKey, "acme", quota: new QuotaPatch { MaxFramesPerJob = 8 });
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 8, OutputSize = 8 };
        var overQuota = spec with { Frames = 400 };
        Assert.Equal(RejectionKind.QuotaExceeded, (await api.Submit(acme.ApiKey, "direct", overQuota)).Rejection?.Kind);

        CoordinatorOutage.Down = true;
        try { await Assert.ThrowsAnyAsync<Exception>(() => api.Submit(acme.ApiKey, "orphan-2", spec)); } // reserved 8 frames
        finally { CoordinatorOutage.Down = false; }

        var other = await api.Submit(acme.ApiKey, "orphan-2", overQuota);
        Assert.Equal(RejectionKind.Conflict, other.Rejection?.Kind);
        Assert.Null(await api.GetStatus(acme.ApiKey, "orphan-2"));

        var retried = await api.Submit(acme.ApiKey, "orphan-2", spec);
        Assert.True(retried.Accepted, retried.Rejection?.ToString());
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "orphan-2", TimeSpan.FromSeconds(60), output.WriteLine, tenant: "acme");
        Assert.Equal((JobState.Completed, 8), (status.State, status.FramesDone));

        var reused = await api.Submit(acme.ApiKey, "orphan-2", spec);
        Assert.Equal(RejectionKind.Conflict, reused.Rejection?.Kind);
        var usage = (await api.Usage(acme.ApiKey)).Usage;
        Assert.Equal((0, 8L), (usage.RunningJobs, usage.FramesRendered));
    }

    /// <summary>
    /// A failed submit whose client never retries leaves a reservation no job will release. Once it is older than
    /// Tenants:LeakedReservationSeconds, the next submit it stands in the way of (here: the tenant's one running-job slot)
    /// releases it and is admitted; a fresh reservation is not touched.
    /// </summary>
    [Fact]
    public async Task A_reservation_left_by_a_submit_never_retried_is_released_when_it_blocks_another_job()
    {
        CoordinatorOutage.Down = false;
        await using var harness = await ClusterHarness.StartAsync(silos: 1, settings: new Dictionary<string, string?> { ["Tenants:LeakedReservationSeconds"] = "2" },
            configure: silo => silo.AddIncomingGrainCallFilter<CoordinatorOutage>());
        var api = harness.Client.GetGrain<IClusterApiGrain>(0);
        var acme = await api.CreateTenant(harness.AdminKey, "acme", quota: new QuotaPatch { MaxRunningJobs = 1 });
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 8, OutputSize = 8 };

        CoordinatorOutage.Down = true;
        try { await Assert.ThrowsAnyAsync<Exception>(() => api.Submit(acme.ApiKey, "orphan-3", spec)); } // reserved the one slot
        finally { CoordinatorOutage.Down = false; }

        var early = await api.Submit(acme.ApiKey, "next", spec); // within the grace: the reservation may still be a submit in flight
        Assert.Equal(RejectionKind.QuotaExceeded, early.Rejection?.Kind);
        Assert.Equal(1, (await api.Usage(acme.ApiKey)).Usage.RunningJobs);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var later = await api.Submit(acme.ApiKey, "next", spec);
        Assert.True(later.Accepted, later.Rejection?.ToString());
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "next", TimeSpan.FromSeconds(60), output.WriteLine, tenant: "acme");
        Assert.Equal(JobState.Completed, status.State);
        var usage = (await api.Usage(acme.ApiKey)).Usage;
        Assert.Equal((0, 0, 8L), (usage.RunningJobs, usage.QueuedFrames, usage.FramesRendered)); // the leak is gone, not counted
    }

    [Fact]
    public async Task A_job_stored_before_a_later_submit_step_failed_still_runs_to_completion_and_is_listed_once()
    {
        IndexGrainOutage.FailuresLeft = 1;
        await using var harness = await ClusterHarness.StartAsync(silos: 1, configure: silo => silo.AddIncomingGrainCallFilter<IndexGrainOutage>());
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 8, OutputSize = 8 };
        var coordinator = harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "index-down-1"));

        await Assert.ThrowsAsync<SiloUnavailableException>(() => coordinator.Submit(spec, "default"));
        Assert.NotNull(await coordinator.GetStatus()); // stored: a retried submit finds it (409, same spec: that job)

        // Polled all along, as a watching client would, so the activation is never collected and re-activated.
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "index-down-1", TimeSpan.FromSeconds(60), output.WriteLine);
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(8, status.FramesDone);
        Assert.Equal(["index-down-1"], await harness.Client.GetGrain<IJobIndexGrain>("default").List()); // placed by a heartbeat, once
    }
}
