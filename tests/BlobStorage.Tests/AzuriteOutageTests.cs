using System.Diagnostics;

namespace BlobStorage.Tests;

/// <summary>The storage endpoint goes away for a few seconds while a write is in progress; the write must still land.</summary>
public sealed class AzuriteOutageTests
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Put_started_while_Azurite_is_down_succeeds_after_it_restarts()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var store = new AzureBlobStore(azurite.ConnectionString, "outage", new BlobRetryOptions());
        await store.PutAsync("before-outage.txt", "before"u8.ToArray(), "text/plain");
        var content = new byte[256 * 1024];
        new Random(42).NextBytes(content);

        await azurite.KillAsync();
        var clock = Stopwatch.StartNew();
        var put = store.PutAsync("jobs/j1/frames/000001.png", content, "image/png");
        await Task.Delay(Outage);
        Assert.False(put.IsCompleted, $"the put should still be retrying during the outage, but it ended: {put.Exception?.GetBaseException().Message}");

        await azurite.RestartAsync();
        await put.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(clock.Elapsed >= Outage);
        Assert.Equal(content, await store.GetAsync("jobs/j1/frames/000001.png"));
    }

    [Fact]
    public async Task Reads_fail_with_an_io_error_once_the_retry_budget_is_spent()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var budget = TimeSpan.FromSeconds(2);
        var store = new AzureBlobStore(azurite.ConnectionString, "budget", new BlobRetryOptions { RetryBudget = budget, BaseDelay = TimeSpan.FromMilliseconds(100) });
        await store.PutAsync("a.txt", "a"u8.ToArray(), "text/plain");

        await azurite.KillAsync();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<IOException>(() => store.GetAsync("a.txt"));

        Assert.InRange(clock.Elapsed, budget, budget + TimeSpan.FromSeconds(10));
        Assert.Contains("a.txt", error.Message);
        Assert.Contains($"127.0.0.1:{azurite.Port}", error.Message);
    }
}
