using Grains.Interfaces;

namespace ClusterClient;

public sealed record SiloInfo(string Name, string Address, string Status);

/// <summary>What `scmctl cluster` shows: silos, their devices (workers) and the queue.</summary>
public sealed record ClusterOverview(IReadOnlyList<SiloInfo> Silos, SchedulerSnapshot Scheduler);
