using System.Diagnostics;
using Scm.Images;
using Scm.Sampling;
using TorchSharp;
using static Scm.Tests.TestSupport;
using static TorchSharp.torch;

namespace Scm.Tests;

/// <summary>A serving worker samples batch after batch for days: nothing native may accumulate per batch.</summary>
public class MemoryTests(ITestOutputHelper output)
{
    static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    [Fact]
    public void A_thousand_sampler_batches_leave_no_live_tensors_behind()
    {
        var sampler = new ConsistencySampler(NewNetwork(Minimal with { NumClasses = 3 }), CPU, computeBatch: 4);
        var schedule = SamplingSchedule.ForSteps(2);
        void Batch(int i)
        {
            var specs = Enumerable.Range(0, 1 + i % 4).Select(f => SampleSpec.Image((ulong)i, f, f % 3, 3)).ToList();
            using var x = sampler.Sample(specs, schedule);
            if (i % 100 == 0) PngEncoder.EncodeBatch(x, 8);
        }

        for (int i = 0; i < 20; i++) Batch(i); // warm up allocators and kernel caches
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long tensorsBefore = Tensor.TotalCount;
        long threadLiveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long rssBefore = ResidentBytes();

        for (int i = 0; i < 1000; i++) Batch(i);

        long tensorsAfter = Tensor.TotalCount;
        long threadLiveAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long rssAfter = ResidentBytes();
        output.WriteLine($"live tensors {tensorsBefore} -> {tensorsAfter}; this thread's live tensors {threadLiveBefore} -> {threadLiveAfter}; " +
                         $"RSS {rssBefore / 1048576.0:F1} -> {rssAfter / 1048576.0:F1} MiB");
        // Counted before any GC: every tensor of a batch is disposed deterministically, not left to finalizers.
        Assert.Equal(tensorsBefore, tensorsAfter);
        Assert.Equal(threadLiveBefore, threadLiveAfter);
        // RSS is noisy (allocator caches, JIT); a per-batch leak of even one 8x8 batch would show as > 1 MiB.
        Assert.True(rssAfter - rssBefore < 64L << 20, $"RSS grew by {(rssAfter - rssBefore) / 1048576.0:F1} MiB");
    }
    [Fact]
    public void Activations_are_freed_after_each_network_evaluation_not_at_the_end_of_the_request()
    {
        // Live tensors at the start of each evaluation must not grow with the number of chunks and steps already
        // done: a large request then needs the memory of one evaluation, not of all of them.
        var network = NewNetwork(Tiny());
        var sampler = new ConsistencySampler(network, CPU, computeBatch: 2);
        var live = new List<long>();
        var hook = network.register_forward_pre_hook(_ => live.Add(Tensor.TotalCount));
        try
        {
            var specs = Enumerable.Range(0, 16).Select(f => SampleSpec.Image(3, f, f % 3, 3)).ToList();
            sampler.Sample(specs, SamplingSchedule.ForSteps(3)).Dispose();
        }
        finally
        {
            hook.remove();
        }
        Assert.Equal(8 * 3, live.Count);
        output.WriteLine($"live tensors at each evaluation: {string.Join(" ", live)}");
        // Each finished chunk keeps only its [2, 1, 8, 8] result (and its narrowed view): a handful of tensors.
        Assert.True(live[^1] - live[0] < 40, $"live tensors grew from {live[0]} to {live[^1]} over one request");
    }
}
