using BenchmarkDotNet.Attributes;
using Grains.Interfaces;
using Grains.Scheduling;

namespace Scheduler.Benchmarks;

/// <summary>
/// The scheduler grain's per-call work on its queue, at the queue depth a cluster of <see cref="Devices"/> devices
/// keeps: <see cref="ItemsPerDevice"/> pending items per device, spread over <see cref="Tenants"/> tenants with
/// <see cref="JobsPerTenant"/> jobs each. Every result is per operation (per lease, per offered item).
/// </summary>
[MemoryDiagnoser]
public class FairShareQueueBenchmarks
{
    const int FramesPerItem = 16, JobsPerTenant = 4, ItemsPerDevice = 8;

    [Params(1, 16, 64, 256)] public int Devices { get; set; }
    [Params(1, 64)] public int Tenants { get; set; }
    /// <summary>Share of jobs with another sampling schedule: their items cannot join the same batch.</summary>
    [Params(false, true)] public bool MixedSchedules { get; set; }

    FairShareQueue queue = null!;
    WorkItem[] pending = [];
    string[] workers = [];

    [GlobalSetup]
    public void Setup()
    {
        queue = new FairShareQueue(TimeSpan.FromMinutes(10), TimeProvider.System);
        workers = Enumerable.Range(0, Devices).Select(d => $"silo-{d / 32}/sim:{d % 32}").ToArray();
        int items = Devices * ItemsPerDevice, jobs = Tenants * JobsPerTenant;
        var specs = Enumerable.Range(0, jobs).Select(j => new JobSpec { Steps = MixedSchedules && j % 2 == 1 ? 1 : 2, Seed = (ulong)j }).ToArray();
        var start = DateTime.UtcNow;
        pending = Enumerable.Range(0, items).Select(i =>
        {
            int job = i % jobs;
            return new WorkItem
            {
                JobId = $"job-{job:D4}", Tenant = $"tenant-{job % Tenants:D3}", ItemIndex = i / jobs, FirstFrame = i / jobs * FramesPerItem,
                FrameCount = FramesPerItem, Spec = specs[job], BlobPrefix = $"tenants/t/jobs/job-{job:D4}/", SubmittedAt = start.AddMilliseconds(job),
            };
        }).ToArray();
        foreach (var item in pending) queue.Add(item);
    }

    int next;

    /// <summary>
    /// One lease (one item, as `bench scale` runs) for the next device in turn: take, charge the tenant, and put a
    /// next-attempt copy back so the depth stays constant. The queue work of a Lease + Release.
    /// </summary>
    [Benchmark(Description = "lease: take + charge + re-add")]
    public int LeaseCycle()
    {
        var items = queue.Take(workers[next++ % workers.Length], FramesPerItem, workers);
        foreach (var item in items)
        {
            queue.Charge(item.Tenant, 0.2);
            queue.Add(item with { Attempt = item.Attempt + 1 });
        }
        return items.Count;
    }

    /// <summary>A coordinator heartbeat re-offering an item the queue already holds (dropped as a duplicate).</summary>
    [Benchmark(Description = "re-offer of a held item (heartbeat)")]
    public bool ReofferDuplicate() => queue.Add(pending[next++ % pending.Length]);
}
