using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Grains.Interfaces;

namespace HttpApi;

/// <summary>
/// The event stream of one job: polls the API grain (re-authenticating the key on every poll, so a revoked key ends
/// the stream) and emits a "status" event when progress changes, or when nothing changed for
/// <see cref="HttpApiOptions.EventKeepAlive"/> (proxies keep the stream, and a write to a gone client fails).
/// Event ids are derived from the status itself (<see cref="EventId"/>), not from a per-connection counter, so a
/// client that reconnects with Last-Event-ID (to this silo or any other) is not sent again what it has seen; a
/// terminal status is always sent, so every complete stream ends with it.
/// A stream this silo must cut (it is shutting down, or the cluster did not answer for
/// <see cref="HttpApiOptions.EventOutageLimit"/>) ends with an "unavailable" event and a reconnection time instead of
/// a bare close, so the client knows to come back. A revoked key ends it with an "error" event.
/// </summary>
public static class JobEventStream
{
    public const string StatusEvent = "status", UnavailableEvent = "unavailable", ErrorEvent = "error";

    /// <summary>"Running.16.0": state, frames done, retries. Equal ids mean nothing a client shows has changed.</summary>
    public static string EventId(JobStatus s) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.State}.{s.FramesDone}.{s.Retries}");

    public static async IAsyncEnumerable<SseItem<object>> Watch(ClusterApiCaller api, string apiKey, JobStatus first, string? lastEventId,
        CancellationToken stopping, [EnumeratorCancellation] CancellationToken aborted)
    {
        var options = api.Options;
        var status = first;
        string? sentId = string.IsNullOrEmpty(lastEventId) ? null : lastEventId;
        var sentAt = DateTime.UtcNow;
        DateTime? failingSince = null;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
        while (!aborted.IsCancellationRequested)
        {
            var id = EventId(status);
            if (id != sentId || status.IsTerminal || DateTime.UtcNow - sentAt >= options.EventKeepAlive)
            {
                yield return new SseItem<object>(JobResource.From(status), StatusEvent) { EventId = id };
                sentId = id;
                sentAt = DateTime.UtcNow;
            }
            if (status.IsTerminal) yield break;

            var (next, outcome, authError) = await NextAsync(api, apiKey, status.JobId, options.EventPollInterval, either.Token);
            if (aborted.IsCancellationRequested) yield break; // the client left: nobody to tell
            if (stopping.IsCancellationRequested)
            {
                yield return Unavailable("this silo is shutting down; reconnect (with Last-Event-ID) to continue", options);
                yield break;
            }
            switch (outcome)
            {
                case Outcome.Status:
                    status = next!;
                    failingSince = null;
                    break;
                case Outcome.Transient:
                    failingSince ??= DateTime.UtcNow;
                    if (DateTime.UtcNow - failingSince.Value >= options.EventOutageLimit)
                    {
                        yield return Unavailable("the cluster has not answered this silo for " +
                            $"{options.EventOutageLimit.TotalSeconds:F0} s (HttpApi:EventOutageLimit); reconnect (with Last-Event-ID) to continue", options);
                        yield break;
                    }
                    break;
                case Outcome.Gone:
                    yield return new SseItem<object>(new StreamError("notFound", $"job {JobSpecValidator.Echo(status.JobId)} is no longer visible to this key"), ErrorEvent);
                    yield break;
                case Outcome.Auth:
                    yield return new SseItem<object>(new StreamError(authError!.Problem.ToString(), authError.Detail), ErrorEvent);
                    yield break;
            }
        }
    }

    static SseItem<object> Unavailable(string reason, HttpApiOptions options) =>
        new(new StreamUnavailable(reason, (int)Math.Ceiling(options.RetryAfter.TotalSeconds)), UnavailableEvent)
        {
            ReconnectionInterval = options.RetryAfter,
        };

    enum Outcome { Status, Transient, Gone, Cancelled, Auth }

    /// <summary>
    /// The next status. A poll that times out or finds the cluster unreachable is transient: the coordinator's or the
    /// API grain's silo may be dying, and Orleans re-activates them elsewhere within seconds.
    /// </summary>
    static async Task<(JobStatus? Status, Outcome Outcome, ApiAuthException? AuthError)> NextAsync(ClusterApiCaller api, string apiKey, string jobId, TimeSpan interval,
        CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(interval, cancellationToken);
            var status = await api.Status(apiKey, jobId, cancellationToken);
            return status is null ? (null, Outcome.Gone, null) : (status, Outcome.Status, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, Outcome.Cancelled, null);
        }
        catch (ApiAuthException e)
        {
            return (null, Outcome.Auth, e);
        }
        catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or OrleansException
            or StorageUnavailableException)
        {
            return (null, Outcome.Transient, null);
        }
    }
}

/// <summary>Data of the "unavailable" event: why the stream was cut and when to reconnect.</summary>
public sealed record StreamUnavailable(string Reason, int RetryAfterSeconds);

/// <summary>Data of the "error" event: the stream cannot continue (e.g. the key was revoked).</summary>
public sealed record StreamError(string Problem, string Detail);
