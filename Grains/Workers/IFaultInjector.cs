using Grains.Interfaces;

namespace Grains.Workers;

/// <summary>
/// A seam for tests of failure handling: runs before an item is sampled and returns a reason to fail it, or
/// null. It may also delay (to keep a job in flight while a test kills a silo). Production silos use
/// <see cref="NoFaults"/>.
/// </summary>
public interface IFaultInjector
{
    ValueTask<string?> BeforeItemAsync(WorkItem item, string workerId, CancellationToken cancellationToken);
}

public sealed class NoFaults : IFaultInjector
{
    public ValueTask<string?> BeforeItemAsync(WorkItem item, string workerId, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);
}
