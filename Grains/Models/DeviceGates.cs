using System.Collections.Concurrent;

namespace Grains.Models;

/// <summary>
/// One batch at a time per device and process. For "cpu" this matters twice: a CPU batch already uses every
/// core, and concurrent CPU batches in one process (several in-process silos, as in tests) were seen to change
/// result bits, which would break "a retried batch rewrites identical bytes".
/// </summary>
public static class DeviceGates
{
    static readonly ConcurrentDictionary<string, SemaphoreSlim> gates = new();

    public static SemaphoreSlim For(string device) => gates.GetOrAdd(device, _ => new SemaphoreSlim(1, 1));
}
