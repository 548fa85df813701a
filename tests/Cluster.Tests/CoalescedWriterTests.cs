using Grains.Jobs;

namespace Cluster.Tests;

[Trait("Category", "Unit")]
public class CoalescedWriterTests
{
    [Fact]
    public async Task Changes_made_while_a_write_is_in_flight_go_out_in_one_more_write()
    {
        var gate = new TaskCompletionSource();
        int writes = 0;
        var writer = new CoalescedWriter(async () => { writes++; await gate.Task; });

        var first = writer.PersistAsync();
        var second = writer.PersistAsync();
        var third = writer.PersistAsync();
        Assert.Equal(1, writes);
        gate.SetResult();
        await Task.WhenAll(first, second, third);

        Assert.Equal(2, writes); // the first change, then the two made meanwhile together
        Assert.False(writer.Dirty);
    }

    [Fact]
    public async Task Drain_waits_for_the_write_in_flight_even_when_nothing_new_is_pending()
    {
        var gate = new TaskCompletionSource();
        var writer = new CoalescedWriter(() => gate.Task);
        _ = writer.PersistAsync();
        Assert.False(writer.Dirty); // the change is being written, not pending

        var drained = writer.DrainAsync();
        Assert.False(drained.IsCompleted);
        gate.SetResult();
        await drained;
    }

    [Fact]
    public async Task A_failed_write_leaves_the_change_dirty_for_the_next_attempt()
    {
        int calls = 0;
        var writer = new CoalescedWriter(() => ++calls == 1 ? Task.FromException(new IOException("storage down")) : Task.CompletedTask);

        await Assert.ThrowsAsync<IOException>(writer.PersistAsync);
        Assert.True(writer.Dirty);
        await writer.DrainAsync();
        Assert.False(writer.Dirty);
        Assert.Equal(2, calls);
    }
}
