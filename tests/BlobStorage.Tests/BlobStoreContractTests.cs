using System.Text;

namespace BlobStorage.Tests;

/// <summary>
/// What every <see cref="IBlobStore"/> must do. Each implementation runs this same suite through a subclass, so the
/// local folder a developer uses and Azure in production cannot drift apart.
/// </summary>
public abstract class BlobStoreContractTests
{
    private const string Png = "image/png";

    /// <summary>An empty store, private to the running test.</summary>
    protected abstract IBlobStore Store { get; }

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes()
    {
        var content = RandomBytes(4096, seed: 1);
        await Store.PutAsync("frames/000001.png", content, Png);

        Assert.Equal(content, await Store.GetAsync("frames/000001.png"));
    }

    [Fact]
    public async Task Empty_and_multi_megabyte_blobs_round_trip()
    {
        var large = RandomBytes(5 * 1024 * 1024 + 17, seed: 2);
        await Store.PutAsync("empty.bin", ReadOnlyMemory<byte>.Empty, "application/octet-stream");
        await Store.PutAsync("videos/large.mp4", large, "video/mp4");

        Assert.Equal(Array.Empty<byte>(), await Store.GetAsync("empty.bin"));
        Assert.Equal(large, await Store.GetAsync("videos/large.mp4"));
    }

    [Fact]
    public async Task Get_of_a_missing_blob_returns_null()
    {
        Assert.Null(await Store.GetAsync("missing.png"));
        Assert.Null(await Store.GetAsync("no/such/folder/missing.png"));
    }

    [Fact]
    public async Task OpenRead_streams_the_bytes_seekably_and_is_null_for_a_missing_blob()
    {
        var content = RandomBytes(3 * 1024 * 1024 + 5, seed: 7);
        await Store.PutAsync("videos/stream.mp4", content, "video/mp4");
        await using (var stream = await Store.OpenReadAsync("videos/stream.mp4"))
        {
            Assert.NotNull(stream);
            Assert.True(stream.CanSeek); // ranges of a video are served from it
            Assert.Equal(content.Length, stream.Length);
            stream.Seek(content.Length - 100, SeekOrigin.Begin);
            var tail = new byte[100];
            await stream.ReadExactlyAsync(tail);
            Assert.Equal(content[^100..], tail);
            stream.Seek(0, SeekOrigin.Begin);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
        }
        Assert.Null(await Store.OpenReadAsync("videos/missing.mp4"));
        Assert.Null(await Store.OpenReadAsync("videos")); // a folder of blobs is no blob
    }

    [Fact]
    public async Task Exists_tells_whether_a_blob_was_written()
    {
        Assert.False(await Store.ExistsAsync("manifest.json"));
        await Store.PutAsync("manifest.json", Encoding.UTF8.GetBytes("{}"), "application/json");
        Assert.True(await Store.ExistsAsync("manifest.json"));
    }

    [Fact]
    public async Task A_folder_of_blobs_is_not_itself_a_blob()
    {
        await Store.PutAsync("jobs/j1/frames/000001.png", RandomBytes(10, seed: 3), Png);

        Assert.False(await Store.ExistsAsync("jobs/j1"));
        Assert.Null(await Store.GetAsync("jobs/j1/frames"));
    }

    [Fact]
    public async Task Writing_a_name_again_keeps_the_last_content()
    {
        await Store.PutAsync("retried/batch.png", RandomBytes(100, seed: 4), Png);
        var last = RandomBytes(50, seed: 5);
        await Store.PutAsync("retried/batch.png", last, Png);

        Assert.Equal(last, await Store.GetAsync("retried/batch.png"));
        Assert.Equal(["retried/batch.png"], await ListAsync("retried/"));
    }

    [Fact]
    public async Task Delete_removes_the_blob_and_ignores_missing_ones()
    {
        await Store.PutAsync("to-delete.png", RandomBytes(10, seed: 6), Png);
        await Store.DeleteAsync("to-delete.png");

        Assert.False(await Store.ExistsAsync("to-delete.png"));
        Assert.Null(await Store.GetAsync("to-delete.png"));
        await Store.DeleteAsync("to-delete.png");
        await Store.DeleteAsync("never/written.png");
    }

    [Fact]
    public async Task List_returns_names_under_the_prefix_with_slashes_in_ordinal_order()
    {
        string[] names =
        [
            "tenants/acme/jobs/j1/frames/000010.png",
            "tenants/acme/jobs/j1/frames/000002.png",
            "tenants/acme/jobs/j1/frames/000001.png",
            "tenants/acme/jobs/j1/manifest.json",
            "tenants/acme/jobs/j1/Z-upper.txt",
            "tenants/acme/jobs/j1/_underscore.txt",
            "tenants/acme/jobs/j10/manifest.json",
            "tenants/acme/jobs/j2/manifest.json",
            "tenants/other/jobs/j1/manifest.json",
        ];
        foreach (var name in names)
        {
            await Store.PutAsync(name, Encoding.UTF8.GetBytes(name), "text/plain");
        }

        var expectedUnderJ1 = names.Where(n => n.StartsWith("tenants/acme/jobs/j1/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedUnderJ1, await ListAsync("tenants/acme/jobs/j1/"));
        Assert.Equal(
            ["tenants/acme/jobs/j1/Z-upper.txt", "tenants/acme/jobs/j1/_underscore.txt"],
            (await ListAsync("tenants/acme/jobs/j1/")).Where(n => !n.Contains("/frames/") && !n.EndsWith(".json", StringComparison.Ordinal)).ToList());
    }

    [Fact]
    public async Task List_with_a_partial_segment_prefix_matches_like_a_string_prefix()
    {
        foreach (var name in new[] { "jobs/j1/a.png", "jobs/j10/a.png", "jobs/j2/a.png", "jobsheet.txt" })
        {
            await Store.PutAsync(name, RandomBytes(3, seed: 7), Png);
        }

        Assert.Equal(["jobs/j1/a.png", "jobs/j10/a.png"], await ListAsync("jobs/j1"));
        Assert.Equal(["jobs/j1/a.png", "jobs/j10/a.png", "jobs/j2/a.png", "jobsheet.txt"], await ListAsync("jobs"));
    }

    [Fact]
    public async Task List_with_an_empty_prefix_returns_everything()
    {
        await Store.PutAsync("b.txt", RandomBytes(1, seed: 8), "text/plain");
        await Store.PutAsync("a/c.txt", RandomBytes(1, seed: 9), "text/plain");
        await Store.PutAsync(".hidden/d.txt", RandomBytes(1, seed: 10), "text/plain");

        Assert.Equal([".hidden/d.txt", "a/c.txt", "b.txt"], await ListAsync(""));
    }

    [Fact]
    public async Task List_of_an_unknown_prefix_is_empty()
    {
        Assert.Empty(await ListAsync("nothing/here/"));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task List_pages_through_more_names_than_one_page()
    {
        // Azure lists at most 5000 per page and we ask for 1000: 1005 names need two pages.
        var names = Enumerable.Range(0, 1005).Select(i => $"many/{i:D5}.png").ToList();
        await Parallel.ForEachAsync(
            names,
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (name, token) => await Store.PutAsync(name, ReadOnlyMemory<byte>.Empty, Png, token));

        Assert.Equal(names, await ListAsync("many/"));
    }

    [Theory]
    [InlineData("with space/frame 1.png")]
    [InlineData("unicode/ünïcødé-日本-🎞.png")]
    [InlineData("url/chars%20+&=;,@$!'()[]{}~#?.png")]
    [InlineData("dots/.hidden/v1.2/x..y")]
    public async Task Names_with_unusual_characters_round_trip(string name)
    {
        var content = Encoding.UTF8.GetBytes(name);
        await Store.PutAsync(name, content, Png);

        Assert.Equal(content, await Store.GetAsync(name));
        Assert.True(await Store.ExistsAsync(name));
        Assert.Equal([name], await ListAsync(name[..(name.IndexOf('/') + 1)]));
        await Store.DeleteAsync(name);
        Assert.False(await Store.ExistsAsync(name));
    }

    [Fact]
    public async Task Concurrent_writes_of_different_names_all_land()
    {
        var names = Enumerable.Range(0, 32).Select(i => $"parallel/{i:D3}.png").ToList();
        await Task.WhenAll(names.Select(name => Store.PutAsync(name, Encoding.UTF8.GetBytes(name), Png)));

        Assert.Equal(names, await ListAsync("parallel/"));
        foreach (var name in names)
        {
            Assert.Equal(Encoding.UTF8.GetBytes(name), await Store.GetAsync(name));
        }
    }

    [Fact]
    public async Task Concurrent_writes_of_one_name_leave_one_whole_content()
    {
        var contents = Enumerable.Range(0, 8).Select(i => RandomBytes(64 * 1024, seed: 100 + i)).ToList();
        await Task.WhenAll(contents.Select(content => Store.PutAsync("contended.png", content, Png)));

        var stored = await Store.GetAsync("contended.png");
        Assert.Contains(contents, content => content.AsSpan().SequenceEqual(stored));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/leading-slash.png")]
    [InlineData("jobs/../escape.png")]
    [InlineData("back\\slash.png")]
    [InlineData("control\u0001char.png")]
    [InlineData("trailing/")]
    public async Task Every_operation_rejects_an_invalid_name(string name)
    {
        await AssertNamesBlob(() => Store.PutAsync(name, RandomBytes(1, seed: 11), Png), name);
        await AssertNamesBlob(() => Store.GetAsync(name), name);
        await AssertNamesBlob(() => Store.ExistsAsync(name), name);
        await AssertNamesBlob(() => Store.DeleteAsync(name), name);
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("../")]
    [InlineData("a/../b")]
    [InlineData("a\\b")]
    public async Task List_rejects_an_invalid_prefix(string prefix)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => ListAsync(prefix));
    }

    [Fact]
    public async Task A_name_longer_than_1024_characters_is_rejected()
    {
        var name = string.Join('/', Enumerable.Repeat(new string('n', 100), 11));
        Assert.True(name.Length > BlobNames.MaxLength);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(name, RandomBytes(1, seed: 12), Png));
        Assert.Contains("1024", error.Message);
    }

    [Fact]
    public async Task A_cancelled_token_cancels()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutAsync("c.png", RandomBytes(1, seed: 13), Png, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.GetAsync("c.png", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.ListAsync("", cancelled.Token).ToListAsync(cancelled.Token).AsTask());
    }

    [Fact]
    public void Location_says_where_the_blobs_are()
    {
        Assert.False(string.IsNullOrWhiteSpace(Store.Location));
    }

    protected async Task<List<string>> ListAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var name in Store.ListAsync(prefix))
        {
            names.Add(name);
        }

        return names;
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task AssertNamesBlob(Func<Task> operation, string name)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(operation);
        Assert.Contains("Invalid blob name", error.Message);
        if (name.Length > 0 && !name.Any(char.IsControl))
        {
            Assert.Contains(name, error.Message);
        }
    }
}
