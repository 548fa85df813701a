using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Grains.Interfaces;

namespace HttpApi;

/// <summary>
/// The event stream of one job: polls the API grain (re-authenticating the key on every poll, so a revoked key ends
/// the stream) and emits a "status" event when progress changes, or when nothing changed for
/// <see cref="HttpApiOptions.EventKeepAlive"/> (proxies keep the stream, and a write to a gone client fails).
/// The last event is the terminal status. A disconnecting client cancels <paramref name="aborted"/>, which ends
/// the loop at its next await.
/// </summary>
public static class JobEventStream
{
    public const string StatusEvent = "status";

    public static async IAsyncEnumerable<SseItem<JobResource>> Watch(ClusterApiCaller api, string apiKey, JobStatus first,
        [EnumeratorCancellation] CancellationToken aborted)
    {
        var options = api.Options;
        long sequence = 0;
        var status = first;
        JobStatus? sent = null;
        var sentAt = DateTime.UtcNow;
        while (!aborted.IsCancellationRequested)
        {
            if (sent is null || Changed(sent, status) || DateTime.UtcNow - sentAt >= options.EventKeepAlive)
            {
                yield return new SseItem<JobResource>(JobResource.From(status), StatusEvent) { EventId = (++sequence).ToString() };
                sent = status;
                sentAt = DateTime.UtcNow;
            }
            if (status.IsTerminal) yield break;

            var next = await NextAsync(api, apiKey, status, options.EventPollInterval, aborted);
            if (next is null) yield break; // the key was revoked, the job is gone, or the client left
            status = next;
        }
    }

    static bool Changed(JobStatus a, JobStatus b) =>
        a.State != b.State || a.FramesDone != b.FramesDone || a.Retries != b.Retries || a.Error != b.Error;

    /// <summary>The next status; the previous one again after a timed-out poll (the next poll may succeed).</summary>
    static async Task<JobStatus?> NextAsync(ClusterApiCaller api, string apiKey, JobStatus previous, TimeSpan interval, CancellationToken aborted)
    {
        try
        {
            await Task.Delay(interval, aborted);
            return await api.Status(apiKey, previous.JobId, aborted);
        }
        catch (TimeoutException)
        {
            return previous;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return null;
        }
        catch (ApiAuthException)
        {
            return null;
        }
    }
}
