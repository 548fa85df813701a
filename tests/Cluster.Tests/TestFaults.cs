using System.Collections.Concurrent;
using Grains.Interfaces;
using Grains.Workers;

namespace Cluster.Tests;

/// <summary>Injected failures and delays for tests (a test seam, not a mock of any real part).</summary>
public sealed class TestFaults : IFaultInjector
{
    /// <summary>(jobId, itemIndex) pairs that always fail.</summary>
    public ConcurrentDictionary<(string JobId, int Batch), bool> Poisoned { get; } = new();
    /// <summary>Delay per item of jobs whose id starts with "slow".</summary>
    public TimeSpan SlowJobDelay { get; set; } = TimeSpan.FromMilliseconds(150);
    public ConcurrentBag<(string JobId, int Batch, string Worker)> Seen { get; } = new();
    /// <summary>Every item in the order workers started it.</summary>
    public ConcurrentQueue<(string JobId, int Batch)> Order { get; } = new();
    /// <summary>Items of jobs whose id starts with "held" wait for this gate (or the silo's shutdown).</summary>
    public TaskCompletionSource HeldGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<string?> BeforeItemAsync(WorkItem item, string workerId, CancellationToken cancellationToken)
    {
        Seen.Add((item.JobId, item.ItemIndex, workerId));
        Order.Enqueue((item.JobId, item.ItemIndex));
        if (item.JobId.StartsWith("held", StringComparison.Ordinal)) await HeldGate.Task.WaitAsync(cancellationToken);
        if (item.JobId.StartsWith("slow", StringComparison.Ordinal)) await Task.Delay(SlowJobDelay, cancellationToken);
        return Poisoned.ContainsKey((item.JobId, item.ItemIndex)) ? $"poison item {item.ItemIndex}" : null;
    }
}
