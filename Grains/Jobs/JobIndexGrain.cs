using Grains.Hosting;
using Grains.Interfaces;

namespace Grains.Jobs;

[GenerateSerializer]
public sealed class JobIndex
{
    /// <summary>
    /// The index as it was stored before pages: every id in one list, rewritten on every submit. Moved into pages when
    /// such a grain activates (idempotently: a move cut short is done again from the start).
    /// </summary>
    [Id(0)] public List<string> JobIds { get; set; } = new();
    /// <summary>Positions reserved so far: the next submit's position.</summary>
    [Id(1)] public long Count { get; set; }
}

/// <summary>A tenant's job ids in submission order, in pages of <see cref="IJobIndexPageGrain.PageSize"/> (see <see cref="IJobIndexGrain"/>).</summary>
public sealed class JobIndexGrain([PersistentState("index", "jobs")] IPersistentState<JobIndex> index) : Grain, IJobIndexGrain
{
    const int PageSize = IJobIndexPageGrain.PageSize;
    string Tenant => this.GetPrimaryKeyString();

    IJobIndexPageGrain Page(long page) => GrainFactory.GetGrain<IJobIndexPageGrain>($"{Tenant}/{page}");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var legacy = index.State.JobIds;
        if (legacy.Count == 0) return;
        for (int first = 0; first < legacy.Count; first += PageSize)
            await Page(first / PageSize).PutRange(0, legacy.Skip(first).Take(PageSize).ToArray());
        index.State.Count = legacy.Count;
        index.State.JobIds = new();
        await index.WriteOwnStateAsync();
    }

    public async Task<long> Reserve()
    {
        long position = index.State.Count;
        index.State.Count = position + 1; // kept if the write fails: a position is never handed out twice
        await index.WriteOwnStateAsync();
        return position;
    }

    public Task Place(long position, string jobId)
    {
        if (position < 0 || position >= index.State.Count)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"tenant '{Tenant}' has reserved positions 0..{index.State.Count - 1}");
        return Page(position / PageSize).Put((int)(position % PageSize), jobId);
    }

    public async Task<string[]> After(long? after, int count)
    {
        var ids = new List<string>();
        for (long position = after + 1 ?? 0; ids.Count < count && position < index.State.Count; position += PageSize - position % PageSize)
            ids.AddRange(await Page(position / PageSize).Read((int)(position % PageSize), count - ids.Count));
        return ids.ToArray();
    }

    public async Task<long> PositionOf(string jobId)
    {
        for (long page = 0; page * PageSize < index.State.Count; page++)
        {
            int offset = await Page(page).OffsetOf(jobId);
            if (offset < 0) continue;
            await Page(page).Put(offset, jobId); // writes it again if that page's write had failed
            return page * PageSize + offset;
        }
        long position = await Reserve();
        await Place(position, jobId);
        return position;
    }

    public Task<string[]> List() => After(null, int.MaxValue);
}
