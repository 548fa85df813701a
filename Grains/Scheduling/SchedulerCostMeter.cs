using System.Diagnostics;
using Grains.Interfaces;

namespace Grains.Scheduling;

/// <summary>
/// Accumulates the wall time of the scheduler grain's synchronous sections per path (see <see cref="SchedulerCost"/>).
/// A Stopwatch timestamp pair costs tens of nanoseconds, far below the microseconds of the work it brackets.
/// Not thread-safe: owned by the grain, whose turns never overlap.
/// </summary>
public sealed class SchedulerCostMeter
{
    public enum Path { Offer, Lease, Release, Expiry }

    readonly long[] ticks = new long[4];
    readonly long[] calls = new long[4];
    long itemsOffered;

    /// <summary>Ends a section that began at <paramref name="startTimestamp"/> (Stopwatch.GetTimestamp()).</summary>
    public void Add(Path path, long startTimestamp, bool countCall = true)
    {
        ticks[(int)path] += Stopwatch.GetTimestamp() - startTimestamp;
        if (countCall) calls[(int)path]++;
    }

    public void Offered(int items) => itemsOffered += items;

    public SchedulerCost Snapshot() => new()
    {
        OfferSeconds = Seconds(Path.Offer), OfferCalls = calls[(int)Path.Offer], ItemsOffered = itemsOffered,
        LeaseSeconds = Seconds(Path.Lease), LeaseCalls = calls[(int)Path.Lease],
        ReleaseSeconds = Seconds(Path.Release), ReleaseCalls = calls[(int)Path.Release],
        ExpirySeconds = Seconds(Path.Expiry), ExpiryScans = calls[(int)Path.Expiry],
    };

    double Seconds(Path path) => (double)ticks[(int)path] / Stopwatch.Frequency;
}
