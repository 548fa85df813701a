using Grains.Interfaces;

namespace Grains.Options;

/// <summary>Work distribution. Section "Scheduler".</summary>
public sealed class SchedulerOptions : IValidatedOptions
{
    public const string Section = "Scheduler";

    /// <summary>A lease not released within this time returns its items to the queue.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Attempts per work item before its job fails.</summary>
    public int MaxAttempts { get; set; } = 3;
    /// <summary>Failures of one job's items on one worker before that worker is blocklisted for the job.</summary>
    public int BlocklistAfterFailures { get; set; } = 2;
    /// <summary>How often coordinators check that the scheduler still holds their pending items.</summary>
    public TimeSpan OfferInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>How often the scheduler looks for expired leases and leases held by dead silos.</summary>
    public TimeSpan ExpiryScanInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Half-life of the usage that weighted fair sharing compares between tenants.</summary>
    public TimeSpan FairShareHalfLife { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>Frames per work item when the job does not say.</summary>
    public int DefaultItemFrames { get; set; } = 16;

    public IEnumerable<string> Problems()
    {
        if (LeaseTimeout < TimeSpan.FromSeconds(1)) yield return $"Scheduler:LeaseTimeout must be >= 00:00:01, got {LeaseTimeout}";
        if (MaxAttempts is < 1 or > 100) yield return $"Scheduler:MaxAttempts must be in [1, 100], got {MaxAttempts}";
        if (BlocklistAfterFailures < 1) yield return $"Scheduler:BlocklistAfterFailures must be >= 1, got {BlocklistAfterFailures}";
        if (OfferInterval < TimeSpan.FromMilliseconds(100)) yield return $"Scheduler:OfferInterval must be >= 00:00:00.1, got {OfferInterval}";
        if (ExpiryScanInterval < TimeSpan.FromMilliseconds(100)) yield return $"Scheduler:ExpiryScanInterval must be >= 00:00:00.1, got {ExpiryScanInterval}";
        if (FairShareHalfLife < TimeSpan.FromSeconds(1)) yield return $"Scheduler:FairShareHalfLife must be >= 00:00:01, got {FairShareHalfLife}";
        if (DefaultItemFrames is < 1 or > 1024) yield return $"Scheduler:DefaultItemFrames must be in [1, 1024], got {DefaultItemFrames}";
    }
}
