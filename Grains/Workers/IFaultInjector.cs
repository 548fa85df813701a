using Grains.Interfaces;

namespace Grains.Workers;

/// <summary>
/// A seam for tests of failure handling: returns a reason to fail an item before it is sampled, or null.
/// Production silos use <see cref="NoFaults"/>.
/// </summary>
public interface IFaultInjector
{
    string? FailureFor(WorkItem item, string workerId);
}

public sealed class NoFaults : IFaultInjector
{
    public string? FailureFor(WorkItem item, string workerId) => null;
}
