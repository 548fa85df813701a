using Orleans.Storage;

namespace Grains.Hosting;

/// <summary>
/// State writes of grains that are the only writer of their record (every grain of this cluster: one activation owns
/// its state). When Redis dies in the middle of a write, the write can be applied without its answer arriving; the
/// grain's etag is then stale and every later write would fail with <see cref="InconsistentStateException"/>, for good
/// (seen in the scmctl chaos loop: a tenant grain answering 500s, a coordinator whose Completed state was never stored).
/// The grain's in-memory state is the truth, so such a write re-reads the record only for its current etag, puts the
/// in-memory state back and writes once more. A second conflict is a real one and is thrown.
/// </summary>
public static class SingleWriterState
{
    public static async Task WriteOwnStateAsync<T>(this IPersistentState<T> state)
    {
        try { await state.WriteStateAsync(); }
        catch (InconsistentStateException)
        {
            var ours = state.State;
            await state.ReadStateAsync();
            state.State = ours;
            await state.WriteStateAsync();
        }
    }
}
