using Grains.Hosting;
using Grains.Interfaces;

namespace Grains.Jobs;

[GenerateSerializer]
public sealed class JobIndex
{
    [Id(0)] public List<string> JobIds { get; set; } = new();
}

/// <summary>The job ids of one tenant, in submission order.</summary>
public sealed class JobIndexGrain([PersistentState("index", "jobs")] IPersistentState<JobIndex> index) : Grain, IJobIndexGrain
{
    public async Task Add(string jobId)
    {
        if (index.State.JobIds.Contains(jobId)) return;
        index.State.JobIds.Add(jobId);
        await index.WriteOwnStateAsync();
    }

    public Task<string[]> List() => Task.FromResult(index.State.JobIds.ToArray());

    public Task<string[]?> After(string? after, int count)
    {
        var ids = index.State.JobIds;
        int start = after is null ? 0 : ids.IndexOf(after) + 1;
        return Task.FromResult(start == 0 && after is not null ? null : ids.Skip(start).Take(count).ToArray());
    }
}
