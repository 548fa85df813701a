using Grains.Interfaces;
using Grains.Jobs;

namespace Cluster.Tests;

/// <summary>The job state machine in <see cref="JobRecord"/>: every transition, its outcome, and the ones it refuses. No cluster.</summary>
[Trait("Category", "Unit")]
public class JobRecordTests
{
    internal static readonly DateTime T0 = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
    static readonly DateTime T1 = T0.AddSeconds(1), T2 = T0.AddSeconds(2);
    const int MaxAttempts = 3, BlocklistAfter = 2;

    /// <summary>10 frames in items of 4: frames 0-3, 4-7, 8-9 (also the fixture of <see cref="DoneItemStoreTests"/>).</summary>
    internal static JobRecord Queued()
    {
        var job = new JobRecord();
        job.Open("j1", new JobSpec { ModelId = "tiny", Classes = [1], Frames = 10 }, "acme", itemFrames: 4, numClasses: 10, T0);
        return job;
    }

    static ItemResult Result(JobRecord job, int batch, int attempt = 0, string worker = "w1", string deviceKind = DeviceKinds.Cpu)
    {
        var item = job.Items[batch];
        return new ItemResult
        {
            ItemIndex = batch, Attempt = attempt, WorkerId = worker, DeviceSeconds = 0.5,
            Frames = Enumerable.Range(item.FirstFrame, item.FrameCount)
                .Select(i => new FrameResult { Index = i, Blob = $"f{i}", Sha256 = "00", Bytes = 1, DeviceKind = deviceKind }).ToArray(),
        };
    }

    static FailureOutcome Fail(JobRecord job, int batch, int attempt = 0, string worker = "w1") =>
        job.Fail(batch, attempt, worker, "boom", MaxAttempts, BlocklistAfter, T2);

    static JobRecord Finalizing()
    {
        var job = Queued();
        for (int i = 0; i < job.Items.Count; i++) job.Complete(Result(job, i), T1);
        return job;
    }

    static JobRecord Ended(JobState state)
    {
        var job = state == JobState.Completed ? Finalizing() : Queued();
        if (state == JobState.Completed) job.Finish("m.json", null, T2);
        if (state == JobState.Cancelled) job.Cancel(T2);
        if (state == JobState.Failed)
            for (int attempt = 0; attempt < MaxAttempts; attempt++) Fail(job, 0, attempt);
        Assert.Equal(state, job.State);
        return job;
    }

    [Fact]
    public void Open_queues_every_item_at_attempt_zero_and_refuses_a_job_that_exists()
    {
        var job = Queued();
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(T0, job.CreatedAt);
        Assert.Equal("tenants/acme/jobs/j1/", job.BlobPrefix);
        Assert.Equal([(0, 4), (4, 4), (8, 2)], job.Items.Select(i => (i.FirstFrame, i.FrameCount)));
        Assert.All(job.Items, i => Assert.Equal((ItemState.Queued, 0), (i.State, i.Attempt)));
        Assert.Equal(10, job.Frames.Length);
        Assert.Equal(3, job.PendingWorkItems("j1").Length);

        Assert.Throws<InvalidOperationException>(() => job.Open("j1", job.Spec!, "acme", 8, 10, T1));
        Assert.Equal((3, T0), (job.Items.Count, job.CreatedAt));
    }

    [Fact]
    public void The_first_lease_starts_the_job_and_a_lease_applies_only_to_the_current_queued_attempt()
    {
        var job = Queued();
        Assert.True(job.Lease(0, 0, "w1", T1));
        Assert.Equal((JobState.Running, T1), (job.State, job.StartedAt));
        Assert.Equal((ItemState.Leased, "w1"), (job.Items[0].State, job.Items[0].Worker));
        Assert.True(job.Lease(1, 0, "w2", T2));
        Assert.Equal(T1, job.StartedAt); // started once

        Assert.False(job.Lease(0, 0, "w3", T2)); // leased already
        Assert.False(job.Lease(2, 1, "w1", T2)); // not the current attempt
        Assert.False(job.Lease(3, 0, "w1", T2)); // no such item
        Assert.Equal(("w1", ItemState.Queued), (job.Items[0].Worker, job.Items[2].State));
        Assert.False(new JobRecord().Lease(0, 0, "w1", T1));
    }

    [Fact]
    public void A_completion_stores_the_frames_and_the_last_one_makes_the_job_finalizing()
    {
        var job = Queued();
        Assert.Equal(CompletionOutcome.Stored, job.Complete(Result(job, 1, worker: "w2"), T1));
        Assert.Equal((JobState.Running, T1), (job.State, job.StartedAt)); // a completion without a lease report starts the job too
        Assert.Equal((ItemState.Done, "w2"), (job.Items[1].State, job.Items[1].Worker));
        Assert.Equal(4, job.FramesDone);
        Assert.Equal("f5", job.Frames[5]!.Blob);
        Assert.Equal(0.5, job.DeviceSeconds);

        job.Lease(0, 0, "w1", T1);
        Fail(job, 2); // item 2 is at attempt 1 now
        Assert.Equal(CompletionOutcome.Stored, job.Complete(Result(job, 0), T2));
        // A late completion of an older attempt wrote the same bytes: it counts.
        Assert.Equal(CompletionOutcome.LastStored, job.Complete(Result(job, 2, attempt: 0), T2));
        Assert.Equal(JobState.Finalizing, job.State);
        Assert.Equal(10, job.FramesDone);
        Assert.Empty(job.PendingWorkItems("j1"));
    }

    [Fact]
    public void Duplicate_stale_and_wrong_completions_change_nothing()
    {
        var job = Queued();
        job.Complete(Result(job, 0), T1);
        Assert.Equal(CompletionOutcome.Ignored, job.Complete(Result(job, 0), T2)); // duplicate
        Assert.Equal(0.5, job.DeviceSeconds);
        Assert.Equal(CompletionOutcome.Ignored, job.Complete(Result(job, 0) with { ItemIndex = 7 }, T2));
        Assert.Equal(CompletionOutcome.Ignored, job.Complete(Result(job, 0) with { ItemIndex = -1 }, T2));

        var tooFew = Result(job, 1) with { Frames = Result(job, 1).Frames[..3] };
        var outside = Result(job, 1) with { Frames = Result(job, 0).Frames };
        Assert.Equal(CompletionOutcome.WrongFrames, job.Complete(tooFew, T2));
        Assert.Equal(CompletionOutcome.WrongFrames, job.Complete(outside, T2));
        Assert.Equal((ItemState.Queued, 4, 0.5), (job.Items[1].State, job.FramesDone, job.DeviceSeconds));

        Assert.Equal(CompletionOutcome.Ignored, new JobRecord().Complete(new ItemResult { WorkerId = "w1" }, T1));
    }

    [Fact]
    public void Frames_from_a_simulated_device_add_the_warning_once()
    {
        var job = Queued();
        job.Complete(Result(job, 0, deviceKind: DeviceKinds.Simulated), T1);
        job.Complete(Result(job, 1, deviceKind: DeviceKinds.Simulated), T1);
        Assert.Equal([DeviceKinds.Simulated], job.DeviceKinds);
        Assert.Equal([JobRecord.SimulatedWarning], job.Warnings);
    }

    [Fact]
    public void Device_kinds_are_recorded_in_order_of_first_use_and_only_simulated_ones_warn()
    {
        var job = Queued();
        job.Complete(Result(job, 0, deviceKind: DeviceKinds.Cuda), T1);
        job.Complete(Result(job, 1, deviceKind: DeviceKinds.Cpu), T1);
        job.Complete(Result(job, 2, deviceKind: DeviceKinds.Cuda), T1);
        Assert.Equal([DeviceKinds.Cuda, DeviceKinds.Cpu], job.ToStatus("j1").DeviceKinds);
        Assert.Empty(job.Warnings);
    }

    [Theory]
    [InlineData("cpu", DeviceKinds.Cpu)]
    [InlineData("cuda", DeviceKinds.Cuda)]
    [InlineData("cuda:3", DeviceKinds.Cuda)]
    [InlineData("sim:12", DeviceKinds.Simulated)]
    public void A_device_name_has_one_kind(string device, string kind) => Assert.Equal(kind, DeviceKinds.Of(device));

    [Fact]
    public void A_failed_attempt_requeues_the_item_at_its_next_attempt_until_the_last_one_fails_the_job()
    {
        var job = Queued();
        job.Lease(0, 0, "w1", T1);
        Assert.Equal(FailureOutcome.Retried, Fail(job, 0, attempt: 0, worker: "w1"));
        Assert.Equal((ItemState.Queued, 1, 1, "w1: boom"), (job.Items[0].State, job.Items[0].Attempt, job.Items[0].Failures, job.Items[0].LastError));
        Assert.Equal(1, job.Retries);
        Assert.Equal(1, Assert.Single(job.PendingWorkItems("j1"), w => w.ItemIndex == 0).Attempt);

        Assert.Equal(FailureOutcome.Ignored, Fail(job, 0, attempt: 0)); // a second report of the same attempt
        Assert.Equal(FailureOutcome.Retried, Fail(job, 0, attempt: 1, worker: "w2"));
        Assert.Equal(FailureOutcome.JobFailed, Fail(job, 0, attempt: 2, worker: "w3"));
        Assert.Equal((JobState.Failed, T2, ItemState.Failed), (job.State, job.CompletedAt, job.Items[0].State));
        Assert.Equal("item 0 (frames 0-3) failed 3 times; last: w3: boom", job.Error);
        Assert.Equal(3, job.Retries);
    }

    [Fact]
    public void A_worker_is_blocklisted_once_the_latest_failure_of_enough_items_was_on_it()
    {
        var job = Queued();
        Assert.Equal(FailureOutcome.Retried, Fail(job, 0, worker: "w1"));
        Assert.Equal(FailureOutcome.Retried, Fail(job, 1, worker: "w2"));
        Assert.Equal(FailureOutcome.RetriedAndBlocklisted, Fail(job, 2, worker: "w1"));
        // Item 0's latest failure moves to w2: w1 now has one, w2 two.
        Assert.Equal(FailureOutcome.RetriedAndBlocklisted, Fail(job, 0, attempt: 1, worker: "w2"));
    }

    [Fact]
    public void Failures_of_stored_items_unknown_items_or_unknown_jobs_change_nothing()
    {
        var job = Queued();
        job.Complete(Result(job, 0), T1);
        Assert.Equal(FailureOutcome.Ignored, Fail(job, 0));
        Assert.Equal(FailureOutcome.Ignored, Fail(job, 5));
        Assert.Equal((0, ItemState.Done), (job.Retries, job.Items[0].State));
        Assert.Equal(FailureOutcome.Ignored, Fail(new JobRecord(), 0));
    }

    [Theory]
    [InlineData(JobState.Queued)]
    [InlineData(JobState.Running)]
    [InlineData(JobState.Finalizing)]
    public void A_job_that_has_not_ended_can_be_cancelled(JobState from)
    {
        var job = from == JobState.Finalizing ? Finalizing() : Queued();
        if (from == JobState.Running) job.Lease(0, 0, "w1", T1);
        Assert.Equal(from, job.State);
        Assert.True(job.Cancel(T2));
        Assert.Equal((JobState.Cancelled, T2), (job.State, job.CompletedAt));
    }

    [Theory]
    [InlineData(JobState.Completed)]
    [InlineData(JobState.Failed)]
    [InlineData(JobState.Cancelled)]
    public void An_ended_job_is_final_cancel_and_every_report_are_refused(JobState end)
    {
        var job = Ended(end);
        var completedAt = job.CompletedAt;
        Assert.False(job.Cancel(T2.AddHours(1)));
        Assert.False(job.Lease(1, 0, "w9", T2));
        Assert.Equal(FailureOutcome.Ignored, Fail(job, 1, worker: "w9"));
        Assert.Equal(CompletionOutcome.Ignored, job.Complete(Result(job, 1, worker: "w9"), T2));
        Assert.Equal((end, completedAt), (job.State, job.CompletedAt));
        Assert.DoesNotContain(job.Items, i => i.Worker == "w9" || i.LastError?.StartsWith("w9", StringComparison.Ordinal) == true);
        Assert.Throws<InvalidOperationException>(() => job.Finish("m.json", null, T2));
    }

    [Fact]
    public void Cancelling_a_job_that_was_never_submitted_is_refused()
    {
        var job = new JobRecord();
        Assert.False(job.Cancel(T1));
        Assert.Equal((JobState.Unknown, (DateTime?)null), (job.State, job.CompletedAt));
        Assert.False(job.Exists);
    }

    [Fact]
    public void Only_a_finalizing_job_completes_with_its_outputs()
    {
        var job = Finalizing();
        job.Finish("tenants/acme/jobs/j1/manifest.json", "tenants/acme/jobs/j1/video.mp4", T2);
        Assert.Equal((JobState.Completed, T2), (job.State, job.CompletedAt));
        Assert.Equal(("tenants/acme/jobs/j1/manifest.json", "tenants/acme/jobs/j1/video.mp4"), (job.ManifestBlob, job.VideoBlob));
        Assert.True(job.IsTerminal);

        var running = Queued();
        running.Lease(0, 0, "w1", T1);
        Assert.Throws<InvalidOperationException>(() => running.Finish("m.json", null, T2));
        Assert.Throws<InvalidOperationException>(() => Queued().Finish("m.json", null, T2));
        Assert.Throws<InvalidOperationException>(() => new JobRecord().Finish("m.json", null, T2));
        Assert.Equal((JobState.Running, (string?)null), (running.State, running.ManifestBlob));
    }
}
