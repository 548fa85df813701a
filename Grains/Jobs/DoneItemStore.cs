using Orleans.Storage;

namespace Grains.Jobs;

/// <summary>
/// What a done item adds to its job: its frames' records, the device time it used and the worker that stored it.
/// Persisted as a record of its own (<see cref="DoneItemStore"/>), not inside the <see cref="JobRecord"/>.
/// </summary>
[GenerateSerializer]
public sealed class DoneItem
{
    [Id(0)] public int ItemIndex { get; set; }
    /// <summary>The item's frames, first frame first.</summary>
    [Id(1)] public FrameRecord[] Frames { get; set; } = [];
    [Id(2)] public double DeviceSeconds { get; set; }
    [Id(3)] public string? Worker { get; set; }
}

/// <summary>
/// One storage record per done item, beside the job's own record. Why: a completion used to rewrite the whole job
/// record, whose frame list grows with the job, so a report cost O(frames in the job) of serialisation and the
/// coordinator's writer ran without pause (bench host: a third of the host's CPU at 10,000 frames). A done item's
/// record is written once and never changes, so a report now costs O(its own frames). A record that exists is the
/// proof that its item is done (<see cref="JobRecord.Restore"/>); the job's record is only written after every done
/// item's record (<see cref="DrainAsync"/>), so a stored Finalizing state never names frames that were not stored.
/// Grain-owned: all calls come from the coordinator's own turns.
/// </summary>
public sealed class DoneItemStore(IGrainStorage storage, GrainId job)
{
    /// <summary>Reads at once when a job's records are loaded (a Redis round trip each).</summary>
    const int ReadParallelism = 32;

    readonly Dictionary<int, Task> inFlight = new();
    readonly Dictionary<int, DoneItem> unwritten = new();

    /// <summary>True while a done item's record has not been written (a write failed; <see cref="DrainAsync"/> retries it).</summary>
    public bool Dirty => unwritten.Count > 0;

    public static string StateName(int itemIndex) => $"job-item-{itemIndex}";

    /// <summary>Starts writing <paramref name="item"/>'s record; the task completes when it is stored (or its write failed).</summary>
    public Task WriteAsync(DoneItem item)
    {
        unwritten[item.ItemIndex] = item;
        var write = WriteOneAsync(item);
        // A write that completed at once (a storage that answers synchronously) has already left the set.
        if (!write.IsCompleted) inFlight[item.ItemIndex] = write;
        return write;
    }

    async Task WriteOneAsync(DoneItem item)
    {
        try
        {
            await WriteRecordAsync(item);
            unwritten.Remove(item.ItemIndex);
        }
        finally
        {
            inFlight.Remove(item.ItemIndex);
        }
    }

    /// <summary>
    /// Completes when every done item's record is stored: waits for the writes in flight and writes again those that
    /// failed. Throws when one still fails (it stays <see cref="Dirty"/>).
    /// </summary>
    public async Task DrainAsync()
    {
        while (inFlight.Count > 0)
        {
            try { await Task.WhenAll(inFlight.Values.ToArray()); }
            catch { } // each failed write is in `unwritten`; it is written again below
        }
        foreach (var item in unwritten.Values.ToArray()) await WriteAsync(item);
    }

    /// <summary>The records of every done item among the job's first <paramref name="itemCount"/> items, in any order.</summary>
    public async Task<List<DoneItem>> ReadAllAsync(int itemCount)
    {
        var found = new DoneItem?[itemCount];
        // In slices, on the grain's own turns: a slice's reads overlap, and a 1M-frame job is not one burst of 16k calls.
        for (int first = 0; first < itemCount; first += ReadParallelism)
            await Task.WhenAll(Enumerable.Range(first, Math.Min(ReadParallelism, itemCount - first)).Select(async i =>
            {
                var state = new GrainState<DoneItem>();
                await storage.ReadStateAsync(StateName(i), job, state);
                if (state.RecordExists && state.State is { } item && item.ItemIndex == i) found[i] = item;
            }));
        return found.OfType<DoneItem>().ToList();
    }

    /// <summary>
    /// A record is written once per activation, so a conflict means an earlier write of it was applied without its
    /// answer (see <see cref="Hosting.SingleWriterState"/>): the same item's frames are the same, so write over it.
    /// </summary>
    async Task WriteRecordAsync(DoneItem item)
    {
        var state = new GrainState<DoneItem>(item);
        try { await storage.WriteStateAsync(StateName(item.ItemIndex), job, state); }
        catch (InconsistentStateException)
        {
            var current = new GrainState<DoneItem>();
            await storage.ReadStateAsync(StateName(item.ItemIndex), job, current);
            state.ETag = current.ETag;
            await storage.WriteStateAsync(StateName(item.ItemIndex), job, state);
        }
    }
}
