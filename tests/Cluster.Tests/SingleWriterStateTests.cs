using System.Globalization;
using Grains.Hosting;
using Orleans.Storage;

namespace Cluster.Tests;

/// <summary>
/// A write that the store applied but whose answer was lost (Redis killed mid-write) leaves the grain's etag stale;
/// the next write must still store the grain's in-memory state. The store here is a stand-in for that one Redis
/// behaviour (an etag-checked record); the chaos loop (OperabilityChaosTests) meets it with a real Redis kill.
/// </summary>
[Trait("Category", "Unit")]
public class SingleWriterStateTests
{
    [Fact]
    public async Task A_write_after_an_applied_but_unanswered_write_stores_the_in_memory_state()
    {
        var state = new EtagCheckedState { State = "v1" };
        await state.WriteOwnStateAsync();
        state.State = "v2";
        state.LoseNextAnswer = true;
        await Assert.ThrowsAsync<TimeoutException>(state.WriteStateAsync); // applied, answer lost: our etag is stale
        state.State = "v3";
        await Assert.ThrowsAsync<InconsistentStateException>(state.WriteStateAsync); // what every write got before
        await state.WriteOwnStateAsync();
        Assert.Equal("v3", state.Stored);
        Assert.Equal("v3", state.State);
    }

    [Fact]
    public async Task A_second_conflict_is_a_real_one_and_is_thrown()
    {
        var state = new EtagCheckedState { State = "v1", ConflictOnEveryWrite = true };
        await Assert.ThrowsAsync<InconsistentStateException>(state.WriteOwnStateAsync);
    }

    sealed class EtagCheckedState : IPersistentState<string>
    {
        int storedVersion;
        public string? Stored { get; private set; }
        public bool LoseNextAnswer { get; set; }
        public bool ConflictOnEveryWrite { get; set; }
        public string State { get; set; } = "";
        public string? Etag { get; private set; } = "0";
        public bool RecordExists => Stored is not null;

        public Task ReadStateAsync()
        {
            State = Stored ?? "";
            Etag = storedVersion.ToString(CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }

        public Task WriteStateAsync()
        {
            if (ConflictOnEveryWrite || Etag != storedVersion.ToString(CultureInfo.InvariantCulture))
                throw new InconsistentStateException("etag mismatch", Etag ?? "", storedVersion.ToString(CultureInfo.InvariantCulture));
            Stored = State;
            storedVersion++;
            if (LoseNextAnswer)
            {
                LoseNextAnswer = false;
                throw new TimeoutException("the store applied the write, but its answer never arrived");
            }
            Etag = storedVersion.ToString(CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }

        public Task ClearStateAsync() => throw new NotSupportedException();
    }
}
