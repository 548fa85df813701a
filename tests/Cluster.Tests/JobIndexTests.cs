using Grains.Interfaces;
using Grains.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Cluster.Tests;

/// <summary>
/// A tenant's job index in pages (<see cref="IJobIndexGrain"/>): a submit writes a counter and one page, never the whole
/// history; listing walks pages in order, skips positions that failed submits left empty, and never lists a job twice.
/// </summary>
public class JobIndexTests
{
    const int PageSize = IJobIndexPageGrain.PageSize;

    [Fact]
    public async Task Ids_listed_across_page_boundaries_keep_submission_order_and_skip_empty_positions()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var index = harness.Client.GetGrain<IJobIndexGrain>("acme");
        var expected = new List<string>();
        int total = 2 * PageSize + 5;
        for (int i = 0; i < total; i++)
        {
            long position = await index.Reserve();
            Assert.Equal(i, position);
            if (i % 7 == 3) continue; // a submit that failed after reserving: its position stays empty
            await index.Place(position, $"j{i}");
            expected.Add($"j{i}");
        }

        Assert.Equal(expected, await index.List());
        // Walk as the API does: pages of 250 after the last id's position.
        var walked = new List<string>();
        long? after = null;
        while (true)
        {
            var page = await index.After(after, 250);
            if (page.Length == 0) break;
            walked.AddRange(page);
            after = await index.PositionOf(page[^1]);
        }
        Assert.Equal(expected, walked);
        Assert.Equal(expected.Skip(expected.IndexOf($"j{PageSize - 2}") + 1).Take(4), await index.After(PageSize - 2, 4)); // across a boundary
    }

    [Fact]
    public async Task Placing_is_idempotent_and_a_position_is_never_given_to_two_jobs_or_placed_unreserved()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var index = harness.Client.GetGrain<IJobIndexGrain>("acme");
        long a = await index.Reserve();
        await index.Place(a, "a");
        await index.Place(a, "a"); // a coordinator's heartbeat after its submit's call: no second entry
        Assert.Equal(["a"], await index.List());
        await Assert.ThrowsAsync<InvalidOperationException>(() => index.Place(a, "b"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => index.Place(a + 1, "c"));
        Assert.Equal(["a"], await index.List());
    }

    [Fact]
    public async Task An_index_stored_as_one_list_is_moved_into_pages_and_its_jobs_keep_their_order()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var legacyIds = Enumerable.Range(0, PageSize + 10).Select(i => $"old{i}").ToList();
        var grain = harness.Client.GetGrain<IJobIndexGrain>("legacy");
        var storage = harness.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("jobs");
        await storage.WriteStateAsync("index", grain.GetGrainId(), new GrainState<JobIndex>(new JobIndex { JobIds = legacyIds }));

        Assert.Equal(legacyIds, await grain.List());
        Assert.Equal(PageSize + 1, await grain.PositionOf($"old{PageSize + 1}")); // what a coordinator of a job from then asks
        long next = await grain.Reserve();
        Assert.Equal(legacyIds.Count, next);
        await grain.Place(next, "new");
        var listed = await grain.List();
        Assert.Equal([.. legacyIds, "new"], listed);
        Assert.Equal(next + 1, await grain.PositionOf("never-indexed")); // an unindexed job is placed at the end, once
        Assert.Equal(next + 1, await grain.PositionOf("never-indexed"));
    }
}
