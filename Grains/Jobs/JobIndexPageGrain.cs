using Grains.Hosting;
using Grains.Interfaces;

namespace Grains.Jobs;

[GenerateSerializer]
public sealed class JobIndexPage
{
    /// <summary>Ids by offset; null where a position was reserved and never filled (a submit that failed).</summary>
    [Id(0)] public List<string?> Ids { get; set; } = new();
}

/// <summary>One page of a tenant's job index: a write per job is one page, not the tenant's whole history.</summary>
public sealed class JobIndexPageGrain([PersistentState("index-page", "jobs")] IPersistentState<JobIndexPage> page) : Grain, IJobIndexPageGrain
{
    /// <summary>A write failed: the in-memory page (the truth) is ahead of the stored one, so a repeated Put writes again.</summary>
    bool unsaved;

    public Task Put(int offset, string jobId) => PutRange(offset, [jobId]);

    public async Task PutRange(int offset, string[] jobIds)
    {
        if (offset < 0 || offset + jobIds.Length > IJobIndexPageGrain.PageSize)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"a page holds offsets 0..{IJobIndexPageGrain.PageSize - 1}; got {jobIds.Length} id(s) from {offset}");
        var ids = page.State.Ids;
        bool changed = false;
        for (int i = 0; i < jobIds.Length; i++)
        {
            int at = offset + i;
            if (at < ids.Count && ids[at] is { } present)
            {
                if (present != jobIds[i])
                    throw new InvalidOperationException($"index position {this.GetPrimaryKeyString()}:{at} holds job '{present}', not '{jobIds[i]}'");
                continue;
            }
            while (ids.Count <= at) ids.Add(null);
            ids[at] = jobIds[i];
            changed = true;
        }
        if (!changed && !unsaved) return;
        unsaved = true;
        await page.WriteOwnStateAsync();
        unsaved = false;
    }

    public Task<string[]> Read(int from, int count) =>
        Task.FromResult(page.State.Ids.Skip(from).OfType<string>().Take(count).ToArray());

    public Task<int> OffsetOf(string jobId) => Task.FromResult(page.State.Ids.IndexOf(jobId));
}
