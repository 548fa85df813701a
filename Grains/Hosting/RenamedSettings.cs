using Microsoft.Extensions.Configuration;

namespace Grains.Hosting;

/// <summary>
/// Settings renamed when "batch" came to mean only the network's batch (a job's unit of work is an item, a worker
/// takes a lease of items): an old key still works, with a warning naming its new key, so that a deployed
/// configuration keeps its meaning across the upgrade.
/// </summary>
public static class RenamedSettings
{
    public static readonly IReadOnlyList<(string Old, string New)> Renames =
    [
        ("Devices:MaxBatchFrames", "Devices:MaxLeaseFrames"),
        ("Limits:MaxBatchFrames", "Limits:MaxItemFrames"),
        ("Scheduler:DefaultBatchFrames", "Scheduler:DefaultItemFrames"),
    ];

    /// <summary>
    /// Gives each new key the value of its old key where only the old one is set; returns one warning per old key in use.
    /// </summary>
    public static IReadOnlyList<string> Apply(IConfigurationManager configuration)
    {
        var carried = new Dictionary<string, string?>();
        var warnings = new List<string>();
        foreach (var (old, renamed) in Renames)
        {
            if (configuration[old] is not { } value) continue;
            if (configuration[renamed] is null)
            {
                carried[renamed] = value;
                warnings.Add($"{old} is deprecated: use {renamed} (the value {value} is used for it)");
            }
            else warnings.Add($"{old} is deprecated and ignored: {renamed} is set");
        }
        if (carried.Count > 0) configuration.AddInMemoryCollection(carried);
        return warnings;
    }
}
