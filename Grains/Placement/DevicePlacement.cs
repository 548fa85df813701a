using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Grains.Placement;

/// <summary>Places a worker grain keyed "{siloName}/{device}" on the silo with that name, and nowhere else.</summary>
[GenerateSerializer, Immutable]
public sealed class DevicePlacementStrategy : PlacementStrategy
{
    public static readonly DevicePlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementAttribute() : PlacementAttribute(DevicePlacementStrategy.Instance);

public sealed class DevicePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var siloName = WorkerKey.SiloOf(key);
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
            if (member.Name == siloName && member.Status == SiloStatus.Active && compatible.Contains(member.SiloAddress))
                return Task.FromResult(member.SiloAddress);
        throw new SiloUnavailableException($"Worker '{key}' is pinned to silo '{siloName}', which is not an active member of the cluster.");
    }
}

/// <summary>Worker grain keys: "{siloName}/{device}".</summary>
public static class WorkerKey
{
    public static string Of(string siloName, string device) => $"{siloName}/{device}";
    public static string SiloOf(string key) => key.Contains('/') ? key[..key.IndexOf('/')] : key;
    public static string DeviceOf(string key) => key.Contains('/') ? key[(key.IndexOf('/') + 1)..] : "cpu";
}
