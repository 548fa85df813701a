using Grains.Interfaces;
using Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Cluster.Tests;

/// <summary>
/// A job's done items are records of their own (<see cref="DoneItemStore"/>): a completion writes O(its frames), the
/// job's record holds no frame, and a reloaded job is rebuilt from both (<see cref="JobRecord.Restore"/>). No cluster.
/// </summary>
[Trait("Category", "Unit")]
public class DoneItemStoreTests
{
    static readonly DateTime T0 = JobRecordTests.T0;
    static readonly Serializer Serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(JobRecord).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    static JobRecord Queued() => JobRecordTests.Queued();

    static void Complete(JobRecord job, int index, string deviceKind = DeviceKinds.Cpu)
    {
        var item = job.Items[index];
        job.Complete(new ItemResult
        {
            ItemIndex = index, WorkerId = $"w{index}", DeviceSeconds = 0.25 * (index + 1),
            Frames = Enumerable.Range(item.FirstFrame, item.FrameCount).Select(i => new FrameResult { Index = i, Blob = $"frame-{i}", Sha256 = "00", Bytes = i, DeviceKind = deviceKind })
                .ToArray(),
        }, T0);
    }

    /// <summary>What storage gives back of the job's own record.</summary>
    static JobRecord Reloaded(JobRecord job) => Serializer.Deserialize<JobRecord>(Serializer.SerializeToArray(job))!;

    [Fact]
    public void The_jobs_own_record_holds_no_frame()
    {
        var job = Queued();
        for (int i = 0; i < job.Items.Count; i++) Complete(job, i);
        var bytes = Serializer.SerializeToArray(job);
        Assert.DoesNotContain("frame-", System.Text.Encoding.UTF8.GetString(bytes));
        var reloaded = Reloaded(job);
        Assert.Empty(reloaded.Frames);
        Assert.Equal(0, reloaded.DeviceSeconds);
    }

    [Fact]
    public void Device_kinds_come_back_from_the_item_records_and_the_simulated_warning_stays_single()
    {
        var job = Queued();
        Complete(job, 0, DeviceKinds.Simulated);
        Complete(job, 1, DeviceKinds.Cpu);
        var reloaded = Reloaded(job);
        reloaded.Restore([job.DoneItemOf(0), job.DoneItemOf(1)]);
        Assert.Equal([DeviceKinds.Simulated, DeviceKinds.Cpu], reloaded.ToStatus("j1").DeviceKinds);
        Assert.Equal([JobRecord.SimulatedWarning], reloaded.Warnings);
    }

    [Fact]
    public void An_item_done_in_the_jobs_record_without_its_own_record_is_queued_again()
    {
        var job = Queued();
        Complete(job, 0);
        Complete(job, 1);
        var reloaded = Reloaded(job); // says items 0 and 1 are done; only item 0's record was stored
        reloaded.Restore([job.DoneItemOf(0)]);

        Assert.Equal((ItemState.Done, "w0", 0.25), (reloaded.Items[0].State, reloaded.Items[0].Worker, reloaded.DeviceSeconds));
        Assert.Equal(ItemState.Queued, reloaded.Items[1].State);
        Assert.Equal((4, 1), (reloaded.FramesDone, reloaded.ItemsDone));
        Assert.Equal("frame-3", reloaded.Frames[3]!.Blob);
        Assert.Null(reloaded.Frames[4]);
        Assert.Equal([1, 2], reloaded.PendingWorkItems("j1").Select(w => w.ItemIndex));
        Assert.Equal(JobState.Running, reloaded.State);
    }

    [Fact]
    public void A_job_whose_items_all_have_records_is_finalizing_whatever_its_own_record_says()
    {
        var job = Queued();
        Complete(job, 0);
        var running = Reloaded(job); // the last write of the job's record before the silo died
        for (int i = 1; i < job.Items.Count; i++) Complete(job, i);
        Assert.Equal(JobState.Finalizing, job.State);

        running.Restore(Enumerable.Range(0, job.Items.Count).Select(job.DoneItemOf));
        Assert.Equal(JobState.Finalizing, running.State);
        Assert.Equal(10, running.FramesDone);
        Assert.Equal(job.Frames, running.Frames);
        Assert.Equal(0.25 + 0.5 + 0.75, running.DeviceSeconds, 9);
    }

    [Fact]
    public void A_finalizing_record_with_an_item_record_missing_runs_that_item_again_and_an_ended_job_stays_ended()
    {
        var job = Queued();
        for (int i = 0; i < job.Items.Count; i++) Complete(job, i);
        var finalizing = Reloaded(job);
        finalizing.Restore([job.DoneItemOf(0), job.DoneItemOf(2)]);
        Assert.Equal(JobState.Running, finalizing.State);
        Assert.Equal([1], finalizing.PendingWorkItems("j1").Select(w => w.ItemIndex));

        job.Finish("m.json", null, T0);
        var completed = Reloaded(job);
        completed.Restore(Enumerable.Range(0, job.Items.Count).Select(job.DoneItemOf));
        Assert.Equal((JobState.Completed, 10), (completed.State, completed.FramesDone));
    }

    [Fact]
    public async Task Each_done_item_is_one_record_read_back_by_index()
    {
        var storage = new TestStorage();
        var store = new DoneItemStore(storage, GrainId.Create("job", "acme/j1"));
        var job = Queued();
        Complete(job, 0);
        Complete(job, 2);
        await store.WriteAsync(job.DoneItemOf(0));
        await store.WriteAsync(job.DoneItemOf(2));

        Assert.Equal(["job-item-0", "job-item-2"], storage.Records.Keys.Order());
        var read = await store.ReadAllAsync(job.Items.Count);
        Assert.Equal([0, 2], read.Select(d => d.ItemIndex).Order());
        Assert.Equal(job.Frames[8..10], read.Single(d => d.ItemIndex == 2).Frames);
    }

    [Fact]
    public async Task A_failed_write_stays_dirty_until_a_drain_writes_it()
    {
        var storage = new TestStorage { Failing = true };
        var store = new DoneItemStore(storage, GrainId.Create("job", "acme/j1"));
        var job = Queued();
        Complete(job, 1);
        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(job.DoneItemOf(1)));
        Assert.True(store.Dirty);
        await Assert.ThrowsAsync<IOException>(store.DrainAsync);
        Assert.True(store.Dirty);

        storage.Failing = false;
        await store.DrainAsync();
        Assert.False(store.Dirty);
        Assert.Equal(["job-item-1"], storage.Records.Keys);
    }

    [Fact]
    public async Task A_write_that_was_applied_without_its_answer_is_written_over()
    {
        var storage = new TestStorage { ApplyThenFail = true };
        var store = new DoneItemStore(storage, GrainId.Create("job", "acme/j1"));
        var job = Queued();
        Complete(job, 0);
        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(job.DoneItemOf(0)));

        storage.ApplyThenFail = false;
        await store.DrainAsync(); // the record exists with an etag this write does not know
        Assert.False(store.Dirty);
        Assert.Equal(2, storage.Writes);
    }

    /// <summary>Memory storage with etag checks (as Redis and Orleans' memory storage do), and two kinds of trouble.</summary>
    sealed class TestStorage : IGrainStorage
    {
        public Dictionary<string, (object State, string ETag)> Records { get; } = new();
        public bool Failing { get; set; }
        /// <summary>Writes, then throws as if the answer was lost.</summary>
        public bool ApplyThenFail { get; set; }
        public int Writes { get; private set; }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (Failing) throw new IOException("storage down");
            if (Records.TryGetValue(stateName, out var record)) (grainState.State, grainState.ETag, grainState.RecordExists) = ((T)record.State, record.ETag, true);
            return Task.CompletedTask;
        }

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await Task.Yield();
            if (Failing) throw new IOException("storage down");
            string? current = Records.TryGetValue(stateName, out var record) ? record.ETag : null;
            if (current != grainState.ETag) throw new InconsistentStateException("etag mismatch", current, grainState.ETag);
            Writes++;
            Records[stateName] = (grainState.State!, Guid.NewGuid().ToString("N"));
            if (ApplyThenFail) throw new IOException("answer lost");
            grainState.ETag = Records[stateName].ETag;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new NotSupportedException();
    }
}
