namespace Grains.Jobs;

/// <summary>
/// Write-behind for a grain's persistent state: every change calls <see cref="PersistAsync"/>; changes made while
/// a write is in flight all go out in the next single write. A caller that needs its change stored awaits the
/// returned task (it completes after a write that includes the change); one that does not may leave it running.
/// One write at a time, in order. Grain-owned: all calls come from the grain's own (single-threaded) turns.
/// </summary>
public sealed class CoalescedWriter(Func<Task> write)
{
    Task flushing = Task.CompletedTask;
    bool dirty;

    /// <summary>True while a change has not been written (a write failed, or one is pending).</summary>
    public bool Dirty => dirty;

    /// <summary>
    /// Completes when every change made so far is written (or its write failed): writes a pending change, else waits
    /// for the write in flight. For deactivation, so that no acknowledged change is left behind in memory.
    /// </summary>
    public Task DrainAsync() => dirty ? PersistAsync() : flushing;

    public Task PersistAsync()
    {
        dirty = true;
        if (flushing.IsCompleted) flushing = FlushAsync();
        return flushing;
    }

    async Task FlushAsync()
    {
        while (dirty)
        {
            dirty = false;
            try { await write(); }
            catch
            {
                dirty = true; // not stored: the next PersistAsync (e.g. the heartbeat) tries again
                throw;
            }
        }
    }
}
