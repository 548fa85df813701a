using System.Collections.Concurrent;
using Grains.Hosting;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace Cluster.Tests;

/// <summary>
/// Issue 16, item 4: a storage outage reaches callers as a serialisable "storage unavailable, retry" error, never as a
/// CodecNotFoundException for RedisTimeoutException nor as a 2 KB RedisStorageException.
/// </summary>
public class StorageErrorTests
{
    [Fact]
    public async Task A_grain_call_that_hits_a_redis_timeout_fails_with_a_short_serialisable_retryable_error()
    {
        var storage = new FlakyGrainStorage();
        await using var harness = await ClusterHarness.StartAsync(silos: 1,
            configure: silo => silo.Services.AddKeyedSingleton<IGrainStorage>("jobs", storage));
        var api = harness.Client.GetGrain<IClusterApiGrain>(0);
        var healthy = await api.CreateTenant(harness.AdminKey, "healthy");
        Assert.StartsWith("scm_", healthy.ApiKey);

        storage.Failing = true;
        // Crosses silo -> client: the client must be able to deserialise what the silo threw.
        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => api.CreateTenant(harness.AdminKey, "during-outage"));
        Assert.Equal("storage unavailable, retry: Redis did not answer in time", e.Message);
        Assert.True(e.RetryAfterSeconds > 0);
        // Keys already verified keep working: their grains hold their state.
        Assert.Equal("healthy", (await api.WhoAmI(healthy.ApiKey)).Tenant);

        storage.Failing = false;
        await api.CreateTenant(harness.AdminKey, "after-outage");
    }

    [Fact]
    public async Task Unserialisable_exceptions_are_wrapped_and_serialisable_ones_pass_unchanged()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var serializer = harness.Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
        Assert.IsType<ClusterCallException>(ExceptionBoundaryFilter.Translate(new UnserialisableException("boom\nstack-ish"), serializer));
        Assert.Null(ExceptionBoundaryFilter.Translate(new ArgumentException("tenant: 'x' does not exist"), serializer));
        Assert.Null(ExceptionBoundaryFilter.Translate(new RejectedException(Rejection.NotFound("tenant", "'x' does not exist")), serializer));
        Assert.Null(ExceptionBoundaryFilter.Translate(new ApiAuthException(AuthProblem.WrongKey, "no"), serializer));
        Assert.Null(ExceptionBoundaryFilter.Translate(new InconsistentStateException("etag"), serializer));
        var wrapped = ExceptionBoundaryFilter.Translate(new InvalidOperationException("write failed",
            new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "It was not possible to connect", null, CommandStatus.Unknown)), serializer);
        // Clients learn the kind of failure, not the storage client's internals (no exception type to leak into output).
        Assert.Equal("storage unavailable, retry: no connection to Redis", Assert.IsType<StorageUnavailableException>(wrapped).Message);
    }

    sealed class UnserialisableException(string message) : Exception(message);

    /// <summary>Memory storage that throws what StackExchange.Redis throws when Redis stops answering.</summary>
    sealed class FlakyGrainStorage : IGrainStorage
    {
        readonly ConcurrentDictionary<(string, GrainId), (object State, string ETag)> states = new();
        public volatile bool Failing;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Throw();
            if (states.TryGetValue((stateName, grainId), out var stored))
            {
                grainState.State = (T)stored.State;
                grainState.ETag = stored.ETag;
                grainState.RecordExists = true;
            }
            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Throw();
            grainState.ETag = Guid.NewGuid().ToString("N");
            states[(stateName, grainId)] = (grainState.State!, grainState.ETag);
            grainState.RecordExists = true;
            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Throw();
            states.TryRemove((stateName, grainId), out _);
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }

        void Throw()
        {
            if (Failing)
                throw new RedisTimeoutException(CommandFlags.None, "Timeout performing SET (5000ms), next: SET scm/jobs, inst: 0, qu: 0, qs: 1, aw: False, "
                    + "bw: SpinningDown, rs: ReadAsync, ws: Idle, in: 0, last-in: 0, cur-in: 0, sync-ops: 0, async-ops: 12, "
                    + string.Concat(Enumerable.Repeat("serverEndpoint: 127.0.0.1:6390, ", 40)), CommandStatus.Sent);
        }
    }
}

/// <summary>The HTTP API's side of a storage outage: 503 with Retry-After, as for any other "come back later".</summary>
public class HttpApiStorageErrorTests
{
    [Fact]
    public async Task A_storage_unavailable_error_becomes_503_with_retry_after()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddOptions<HttpApi.HttpApiOptions>();
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = services.BuildServiceProvider() };
        var context = new Microsoft.AspNetCore.Http.DefaultEndpointFilterInvocationContext(http);
        var result = await HttpApi.HttpApiExtensions.MapClusterErrors(context,
            _ => throw new StorageUnavailableException("RedisTimeoutException: Timeout performing SET (5000ms)", retryAfterSeconds: 7));
        var problem = Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>(result);
        Assert.Equal(503, problem.StatusCode);
        Assert.Equal("Storage unavailable", problem.ProblemDetails.Title);
        Assert.Contains("Timeout performing SET", problem.ProblemDetails.Detail);
        Assert.Equal("7", http.Response.Headers.RetryAfter.ToString());
    }
}
