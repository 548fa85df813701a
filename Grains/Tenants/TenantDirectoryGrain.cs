using Grains.Hosting;
using Grains.Interfaces;

namespace Grains.Tenants;

[GenerateSerializer]
public sealed class TenantDirectory
{
    [Id(0)] public Dictionary<string, double> Weights { get; set; } = new();
}

/// <summary>Every tenant and its fair-share weight (key 0).</summary>
public sealed class TenantDirectoryGrain([PersistentState("tenants", "jobs")] IPersistentState<TenantDirectory> directory) : Grain, ITenantDirectoryGrain
{
    public async Task Upsert(string tenant, double weight)
    {
        if (directory.State.Weights.TryGetValue(tenant, out var w) && w == weight) return;
        directory.State.Weights[tenant] = weight;
        await directory.WriteOwnStateAsync();
    }

    public Task<Dictionary<string, double>> Weights() => Task.FromResult(new Dictionary<string, double>(directory.State.Weights));
}
