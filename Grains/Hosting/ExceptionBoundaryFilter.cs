using Grains.Interfaces;
using Grains.Telemetry;
using Orleans.Serialization;

namespace Grains.Hosting;

/// <summary>
/// Every exception that leaves a grain call on this silo can cross the wire: storage failures become
/// <see cref="StorageUnavailableException"/> (retryable, short), any other exception whose type Orleans cannot serialise
/// becomes <see cref="ClusterCallException"/>. Serialisable exceptions (ours, Orleans', the BCL's) pass unchanged, so
/// callers keep catching <see cref="ApiAuthException"/>, <see cref="RejectedException"/> and the like. Registered on
/// every silo, so an inner grain's failure is already translated when it reaches the API grain.
/// </summary>
public sealed class ExceptionBoundaryFilter(Serializer serializer) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (Translate(e, serializer) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>The exception to throw instead of <paramref name="e"/>, or null to let it pass.</summary>
    public static Exception? Translate(Exception e, Serializer serializer)
    {
        if (e is StorageUnavailableException or ClusterCallException) return null;
        if (StorageCause(e) is { } cause) return new StorageUnavailableException(ClientCause(cause));
        return serializer.CanSerialize(e.GetType()) ? null : new ClusterCallException(e.GetType().Name, FailureLog.FirstLine(e));
    }

    /// <summary>
    /// What a client is told about a storage failure: the kind, not the storage client's internals (exception types,
    /// endpoints and connection counters stay in the silo's log, where the failure is logged once with its cause).
    /// </summary>
    static string ClientCause(Exception cause)
    {
        for (var current = cause; current is not null; current = current.InnerException)
        {
            if (current is StackExchange.Redis.RedisTimeoutException) return "Redis did not answer in time";
            if (current is StackExchange.Redis.RedisConnectionException) return "no connection to Redis";
        }
        return "a Redis operation failed";
    }

    /// <summary>The storage client's exception in <paramref name="e"/>'s chain, or null when storage is not the cause.</summary>
    public static Exception? StorageCause(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            var ns = current.GetType().Namespace ?? "";
            // Orleans.Storage.InconsistentStateException is an ETag conflict (a real error), not an outage.
            if (ns.StartsWith("StackExchange.Redis", StringComparison.Ordinal)) return current;
            if (current.GetType().Name is "RedisStorageException" or "RedisClusteringException" or "RedisRemindersException") return current;
            if (current is AggregateException { InnerExceptions.Count: > 0 } aggregate)
                return aggregate.InnerExceptions.Select(StorageCause).FirstOrDefault(c => c is not null);
        }
        return null;
    }
}
