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

    public async Task Put(int offset, string jobId)
    {
        if (offset is < 0 or >= IJobIndexPageGrain.PageSize)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"a page holds offsets 0..{IJobIndexPageGrain.PageSize - 1}");
        var ids = page.State.Ids;
        if (offset < ids.Count && ids[offset] is { } present)
        {
            if (present == jobId && !unsaved) return;
            if (present != jobId)
                throw new InvalidOperationException($"index position {this.GetPrimaryKeyString()}:{offset} holds job '{present}', not '{jobId}'");
        }
        while (ids.Count <= offset) ids.Add(null);
        ids[offset] = jobId;
        unsaved = true;
        await page.WriteOwnStateAsync();
        unsaved = false;
    }

    public Task<string[]> Read(int from, int count) =>
        Task.FromResult(page.State.Ids.Skip(from).OfType<string>().Take(count).ToArray());

    public Task<int> OffsetOf(string jobId) => Task.FromResult(page.State.Ids.IndexOf(jobId));
}
