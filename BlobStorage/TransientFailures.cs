using System.Net.Sockets;
using Azure;

namespace BlobStorage;

/// <summary>Which failures of a remote store are worth retrying: the service or the network hiccuped, not the request.</summary>
internal static class TransientFailures
{
    public static bool IsTransient(Exception exception, CancellationToken callerToken)
    {
        switch (exception)
        {
            case OperationCanceledException when callerToken.IsCancellationRequested:
                return false; // the caller gave up; retrying would ignore that
            case OperationCanceledException:
                return true; // the SDK's per-call network timeout surfaces as a cancellation nobody asked for
            case RequestFailedException failed:
                return IsTransientStatus(failed.Status)
                    // Status 0: no response at all. Azure.Core wraps transport errors this way.
                    || (failed.Status == 0 && (failed.InnerException is null || IsTransient(failed.InnerException, callerToken)));
            case AggregateException aggregate:
                // The SDK's own retry throws this once it has given up; retry further only if every try was transient.
                return aggregate.InnerExceptions.Count > 0
                    && aggregate.InnerExceptions.All(inner => IsTransient(inner, callerToken));
            case HttpRequestException or IOException or SocketException or TimeoutException:
                return true;
            default:
                return false;
        }
    }

    /// <summary>408 request timeout, 429 throttled, and 5xx; any other 4xx is our mistake and will fail again.</summary>
    public static bool IsTransientStatus(int status) => status is 408 or 429 or >= 500;
}
