using System.Net;
using Azure;
using Azure.Core.Pipeline;

namespace BlobStorage.Tests;

/// <summary>
/// Retry behaviour of <see cref="AzureBlobStore"/> against a fake transport: exact request counts and status codes
/// that a real emulator cannot be made to produce on demand. The real outage test is <see cref="AzuriteOutageTests"/>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AzureBlobStoreRetryFakeTransportTests
{
    private const string FakeAccount =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + TestEnvironment.DevelopmentAccountKey +
        ";BlobEndpoint=http://fake-storage.invalid/devstoreaccount1;";

    /// <summary>Short delays so the tests take milliseconds; no SDK retries unless a test asks, so counts are exact.</summary>
    private static BlobRetryOptions FastRetry(Action<BlobRetryOptions>? adjust = null)
    {
        var options = new BlobRetryOptions
        {
            BaseDelay = TimeSpan.FromMilliseconds(10),
            MaxDelay = TimeSpan.FromMilliseconds(50),
            RetryBudget = TimeSpan.FromSeconds(20),
            MaxRetryAttempts = 5,
            SdkMaxRetries = 0,
        };
        adjust?.Invoke(options);
        return options;
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Transient_statuses_are_retried_until_the_put_succeeds_fake_transport(HttpStatusCode transient)
    {
        var handler = new ScriptedHttpHandler(() => ScriptedHttpHandler.Respond(HttpStatusCode.Created)).Then(transient).Then(transient);
        var store = CreateStore(handler, FastRetry());

        await store.PutAsync("frames/1.png", new byte[] { 1 }, "image/png");

        Assert.Equal(3, handler.BlobRequests);
    }

    [Fact]
    public async Task Dropped_connections_are_retried_fake_transport()
    {
        var handler = new ScriptedHttpHandler(() => ScriptedHttpHandler.Respond(HttpStatusCode.Created))
            .ThenThrow(() => new HttpRequestException("Connection refused"))
            .ThenThrow(() => new IOException("Connection reset by peer"));
        var store = CreateStore(handler, FastRetry());

        await store.PutAsync("frames/1.png", new byte[] { 1 }, "image/png");

        Assert.Equal(3, handler.BlobRequests);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    public async Task Client_errors_are_not_retried_fake_transport(HttpStatusCode clientError)
    {
        var handler = new ScriptedHttpHandler(() => ScriptedHttpHandler.Respond(clientError));
        var store = CreateStore(handler, FastRetry(o => { o.SdkMaxRetries = 2; }));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => store.PutAsync("frames/1.png", new byte[] { 1 }, "image/png"));

        Assert.Equal((int)clientError, error.Status);
        Assert.Equal(1, handler.BlobRequests);
    }

    [Fact]
    public async Task The_two_retry_layers_multiply_only_up_to_their_configured_bounds_fake_transport()
    {
        var handler = new ScriptedHttpHandler(() => ScriptedHttpHandler.Respond(HttpStatusCode.ServiceUnavailable));
        var store = CreateStore(handler, FastRetry(o => { o.SdkMaxRetries = 2; o.MaxRetryAttempts = 3; }));

        var error = await Assert.ThrowsAsync<IOException>(() => store.PutAsync("frames/1.png", new byte[] { 1 }, "image/png"));

        // (1 try + 2 SDK retries) per attempt x (1 attempt + 3 outer retries).
        Assert.Equal(3 * 4, handler.BlobRequests);
        Assert.Contains("frames/1.png", error.Message);
        Assert.Contains("still failing", error.Message);
    }

    [Fact]
    public async Task Retrying_stops_when_the_time_budget_is_spent_fake_transport()
    {
        var handler = new ScriptedHttpHandler(() => throw new HttpRequestException("Connection refused"));
        var budget = TimeSpan.FromSeconds(1);
        var store = CreateStore(handler, FastRetry(o => { o.MaxRetryAttempts = 1000; o.RetryBudget = budget; }));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<IOException>(() => store.GetAsync("frames/1.png"));

        Assert.InRange(clock.Elapsed, budget, budget + TimeSpan.FromSeconds(5));
        Assert.True(handler.BlobRequests > 3, $"only {handler.BlobRequests} requests within the budget");
    }

    [Fact]
    public async Task Cancellation_by_the_caller_stops_retrying_at_once_fake_transport()
    {
        var handler = new ScriptedHttpHandler(() => ScriptedHttpHandler.Respond(HttpStatusCode.ServiceUnavailable));
        var store = CreateStore(handler, FastRetry(o => { o.MaxRetryAttempts = 1000; o.BaseDelay = TimeSpan.FromMilliseconds(200); o.MaxDelay = TimeSpan.FromMilliseconds(200); }));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("frames/1.png", new byte[] { 1 }, "image/png", cancellation.Token));
        Assert.InRange(handler.BlobRequests, 1, 5);
    }

    [Fact]
    public async Task A_missing_blob_is_null_not_an_error_fake_transport()
    {
        var handler = new ScriptedHttpHandler(() => ScriptedHttpHandler.Respond(HttpStatusCode.NotFound));
        var store = CreateStore(handler, FastRetry());

        Assert.Null(await store.GetAsync("frames/1.png"));
        Assert.Equal(1, handler.BlobRequests);
    }

    private static AzureBlobStore CreateStore(ScriptedHttpHandler handler, BlobRetryOptions retry) =>
        new(FakeAccount, "fake", retry, logger: null, new HttpClientTransport(new HttpClient(handler)), timeProvider: null);
}
