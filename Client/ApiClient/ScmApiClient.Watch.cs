using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace ApiClient;

/// <summary>
/// Following a job through its event stream (/v1/jobs/{id}/events), across the loss of the silo that serves it.
/// </summary>
public sealed partial class ScmApiClient
{
    /// <summary>
    /// Yields the job's status whenever it changes and always ends with its terminal status. When the stream breaks
    /// (the silo died, a proxy cut it, or the silo sent "unavailable" before closing it) it reconnects with
    /// Last-Event-ID, after the server's retry time or a jittered backoff, to whichever silo the URL reaches; the
    /// server then skips what was already seen. Gives up only when no silo answered for
    /// <see cref="ScmApiClientOptions.WatchOutageLimit"/> (<see cref="ApiErrorKind.Unavailable"/>), or on an answer
    /// that will not change by retrying (the key was revoked, the job is not visible).
    /// </summary>
    public async IAsyncEnumerable<JobView> WatchAsync(string jobId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? lastEventId = null;
        var lastContact = DateTime.UtcNow;
        int reconnects = 0;
        // Until the API has answered once, a failure is an ordinary call's (wrong URL, nothing running): no riding through.
        bool contacted = false;
        while (true)
        {
            TimeSpan? serverRetry = null;
            HttpResponseMessage? response = null;
            try
            {
                response = await transport.SendAsync(() =>
                {
                    var request = Request(HttpMethod.Get, JobPath(jobId) + "/events");
                    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                    if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
                    return request;
                }, idempotent: true, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
            }
            catch (ScmApiException e) when (e.Kind == ApiErrorKind.Unavailable && contacted && DateTime.UtcNow - lastContact < options.WatchOutageLimit)
            {
                options.Log?.WriteLine($"watch {jobId}: {e.Message}; still trying");
            }
            catch (ScmApiException e) when (e.Kind == ApiErrorKind.Unavailable && contacted)
            {
                throw new ScmApiException(ApiErrorKind.Unavailable,
                    $"lost the job's progress: no silo answered for {(DateTime.UtcNow - lastContact).TotalSeconds:0} s; last: {e.Message}", inner: e);
            }

            if (response is not null)
            {
                using (response)
                {
                    lastContact = DateTime.UtcNow;
                    contacted = true;
                    using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                    // Every line read (keep-alive comments too) restarts the idle clock; silence past it ends this stream.
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    idle.CancelAfter(options.WatchIdleTimeout);
                    await using var events = ReadEventsAsync(stream, () => idle.CancelAfter(options.WatchIdleTimeout), idle.Token).GetAsyncEnumerator(idle.Token);
                    while (true)
                    {
                        ServerSentEvent? e;
                        try
                        {
                            e = await events.MoveNextAsync() ? events.Current : null;
                        }
                        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                        {
                            options.Log?.WriteLine($"watch {jobId}: the event stream broke ({ex.Message})");
                            e = null;
                        }
                        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                            options.Log?.WriteLine($"watch {jobId}: nothing received for {options.WatchIdleTimeout.TotalSeconds:0.#} s");
                            e = null;
                        }
                        if (e is null) break;
                        lastContact = DateTime.UtcNow;
                        if (e.Event == "status")
                        {
                            var job = JsonSerializer.Deserialize<JobView>(e.Data, ApiTransport.Json)
                                      ?? throw new ScmApiException(ApiErrorKind.Protocol, "an empty status event");
                            // The server's keep-alive resends the unchanged status under the same id: not a change.
                            if (e.Id is not null && e.Id == lastEventId && !job.IsTerminal) continue;
                            if (e.Id is not null) lastEventId = e.Id;
                            yield return job;
                            if (job.IsTerminal) yield break;
                        }
                        else if (e.Event == "unavailable")
                        {
                            serverRetry = e.Retry ?? TimeSpan.FromSeconds(1);
                            options.Log?.WriteLine($"watch {jobId}: the silo closed the stream: {e.Data}");
                        }
                        else if (e.Event == "error")
                        {
                            var problem = JsonSerializer.Deserialize<StreamError>(e.Data, ApiTransport.Json);
                            var kind = problem?.Problem == "notFound" ? ApiErrorKind.NotFound : ApiErrorKind.Auth;
                            throw new ScmApiException(kind, kind == ApiErrorKind.Auth ? $"auth: {problem?.Problem}: {problem?.Detail}" : problem?.Detail ?? "the stream failed");
                        }
                    }
                }
            }
            // The stream ended without a terminal status: come back (the job goes on, maybe on another silo).
            reconnects++;
            var wait = serverRetry ?? Backoff(reconnects);
            options.Log?.WriteLine($"watch {jobId}: reconnecting in {wait.TotalSeconds:0.#} s" + (lastEventId is null ? "" : $" after event {lastEventId}"));
            await Task.Delay(wait, cancellationToken);
        }
    }

    TimeSpan Backoff(int attempt)
    {
        double max = Math.Min(options.RetryMaxDelay.TotalMilliseconds, options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16)));
        return TimeSpan.FromMilliseconds(max / 2 + Random.Shared.NextDouble() * max / 2);
    }

    sealed record StreamError(string Problem, string Detail);

    sealed record ServerSentEvent(string Event, string? Id, string Data, TimeSpan? Retry);

    /// <summary>text/event-stream (WHATWG): "event:", "id:", "data:" (joined by newlines), "retry:"; a blank line ends an event.</summary>
    static async IAsyncEnumerable<ServerSentEvent> ReadEventsAsync(Stream stream, Action lineRead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string type = "message";
        string? id = null;
        TimeSpan? retry = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineRead();
            if (line.Length == 0)
            {
                if (data.Length > 0) yield return new ServerSentEvent(type, id, data.ToString(), retry);
                (type, retry) = ("message", null);
                data.Clear();
                continue;
            }
            if (line[0] == ':') continue; // a comment (keep-alive)
            int colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            switch (field)
            {
                case "event": type = value; break;
                case "id": id = value; break;
                case "retry" when int.TryParse(value, out var ms): retry = TimeSpan.FromMilliseconds(ms); break;
                case "data":
                    if (data.Length > 0) data.Append('\n');
                    data.Append(value);
                    break;
            }
        }
    }
}
