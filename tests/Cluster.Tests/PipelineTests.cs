using BlobStorage;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests;

/// <summary>
/// The worker samples lease k+1 while lease k is stored and reported. These tests hold or break the store stage
/// of one batch and check that the overlap happens, stays bounded, and loses or duplicates nothing.
/// </summary>
public class PipelineTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static JobSpec Images(int frames) => new()
    {
        Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = frames, Seed = 11, Steps = 2, OutputSize = 16,
    };

    /// <summary>One item (4 frames) per lease, so consecutive items are consecutive leases of the one worker.</summary>
    static readonly Dictionary<string, string?> OneItemPerLease = new()
    {
        ["Scheduler:DefaultItemFrames"] = "4", ["Devices:MaxLeaseFrames"] = "4",
    };

    [Fact]
    public async Task Store_failure_of_one_batch_while_the_next_samples_is_retried_and_the_job_has_every_frame_once_with_unchanged_checksums()
    {
        var faults = new TestFaults();
        bool overlapped = false;
        var (harness, store) = await StartAsync(faults);
        await using var _ = harness;
        // The first write of batch 2 (frames 8-11) waits until batch 3 has started sampling, then fails.
        store.BeforePut = async name =>
        {
            if (!name.Contains("/jobs/pipe/frames/000008.png", StringComparison.Ordinal) || store.Failed) return;
            store.Failed = true;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!faults.Seen.Any(s => s.JobId == "pipe" && s.Batch == 3) && DateTime.UtcNow < deadline) await Task.Delay(10);
            overlapped = faults.Seen.Any(s => s.JobId == "pipe" && s.Batch == 3);
            throw new IOException("injected store failure of batch 2");
        };

        var failed = await RunAsync(harness, "pipe", Images(32));
        var reference = await RunAsync(harness, "pipe-reference", Images(32));

        Assert.True(overlapped, "batch 3 did not start sampling while batch 2 was being stored");
        Assert.Equal(1, failed.Status.Retries);
        Assert.Equal(2, faults.Seen.Count(s => s.JobId == "pipe" && s.Batch == 2));
        Assert.Equal(Enumerable.Range(0, 32), failed.Frames.Select(f => f.Index));
        Assert.Equal(32, failed.Frames.Select(f => f.Blob).Distinct().Count());
        Assert.Equal(reference.Frames.Select(f => f.Sha256), failed.Frames.Select(f => f.Sha256));
        Assert.True(failed.Status.DeviceSeconds > 0);
    }

    [Fact]
    public async Task A_held_store_stops_the_sampler_after_one_more_lease_and_the_job_completes_once_released()
    {
        var faults = new TestFaults();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (harness, store) = await StartAsync(faults);
        await using var _ = harness;
        store.BeforePut = name => name.Contains("/jobs/gated-store/frames/000004.png", StringComparison.Ordinal) ? gate.Task : Task.CompletedTask;

        var coordinator = harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "gated-store"));
        Assert.True((await coordinator.Submit(Images(32), "default")).Accepted);
        // Batch 1's store is held; batch 2 may be leased and sampled behind it, but nothing further.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!faults.Seen.Any(s => s.JobId == "gated-store" && s.Batch == 2) && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Contains(faults.Seen, s => s.JobId == "gated-store" && s.Batch == 2);
        await Task.Delay(TimeSpan.FromSeconds(1)); // room for a sampler that ignored the bound to take batch 3
        Assert.DoesNotContain(faults.Seen, s => s.JobId == "gated-store" && s.Batch == 3);
        var snapshot = await harness.Client.GetGrain<ISchedulerGrain>(0).Snapshot();
        Assert.Equal(2, snapshot.LeasesOutstanding);
        Assert.Equal(4, (await coordinator.GetStatus())!.FramesDone);

        gate.SetResult();
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "gated-store", TimeSpan.FromSeconds(60), output.WriteLine);
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(0, status.Retries);
        Assert.Equal(32, status.FramesDone);
        Assert.Equal(8, faults.Seen.Count);
    }

    static async Task<(ClusterHarness Harness, HookedBlobStore Store)> StartAsync(TestFaults faults)
    {
        var root = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "blobs-" + Guid.NewGuid().ToString("N"));
        var store = new HookedBlobStore(new LocalFolderBlobStore(root));
        // The workers write through the hooked store; the harness reads the same folder directly.
        var harness = await ClusterHarness.StartAsync(silos: 1, settings: OneItemPerLease, faults: faults,
            configure: silo => silo.Services.AddSingleton<IBlobStore>(store), blobRootOverride: root);
        return (harness, store);
    }

    async Task<(JobStatus Status, List<ManifestEntry> Frames)> RunAsync(ClusterHarness harness, string jobId, JobSpec spec)
    {
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", jobId)).Submit(spec, "default")).Accepted);
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, jobId, TimeSpan.FromSeconds(60), output.WriteLine);
        Assert.Equal(JobState.Completed, status.State);
        return (status, await ManifestReader.ReadAsync(harness.Blobs, status.ManifestBlob!));
    }

    /// <summary>A real local-folder store with a hook before every write (to hold or fail one).</summary>
    sealed class HookedBlobStore(IBlobStore inner) : IBlobStore
    {
        public Func<string, Task>? BeforePut { get; set; }
        public bool Failed { get; set; }
        public string Location => inner.Location;

        public async Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
        {
            if (BeforePut is { } hook) await hook(name);
            await inner.PutAsync(name, content, contentType, cancellationToken);
        }

        public Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);
        public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => inner.ExistsAsync(name, cancellationToken);
        public IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);
        public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
