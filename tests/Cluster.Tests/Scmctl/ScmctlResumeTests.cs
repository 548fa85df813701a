using System.Net;
using ApiClient;
using static Cluster.Tests.HttpApiTesting;
using static Cluster.Tests.Scmctl.ScmctlProcess;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// The client against a real silo whose connections break: event streams cut mid-job (watch resumes with
/// Last-Event-ID and ends with the terminal state) and a submit whose answer is lost (the retry creates no second job).
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class ScmctlResumeTests(HttpApiSilo api)
{
    // Long enough that, even on a loaded machine where a connection's first event can take longer than the proxy's
    // 400 ms cut, several connections deliver an event before their cut (160 frames once ended after a single cut
    // that came before any event, so no reconnect carried Last-Event-ID).
    static readonly JobRequest LongJob = new() { Kind = "ImageSet", ModelId = "tiny", Classes = [1, 2], Frames = 480, OutputSize = 8, ItemFrames = 4 };

    [Fact]
    public async Task Watch_resumes_a_cut_event_stream_with_Last_Event_ID_and_ends_with_the_terminal_state()
    {
        await using var proxy = new CuttingProxy(api.Silo.HttpBase, TimeSpan.FromMilliseconds(400));
        using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = api.Silo.HttpBase, ApiKey = api.KeyA });
        var job = await client.SubmitAsync(LongJob);

        using var viaProxy = new ScmApiClient(new ScmApiClientOptions
        {
            BaseAddress = proxy.Url, ApiKey = api.KeyA, RetryBaseDelay = TimeSpan.FromMilliseconds(50), RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        });
        var seen = new List<JobView>();
        await foreach (var status in viaProxy.WatchAsync(job.JobId)) seen.Add(status);

        Assert.Equal(JobState.Completed, seen[^1].State);
        Assert.Equal(480, seen[^1].FramesDone);
        Assert.True(proxy.Cuts > 0, "the job ended before the first cut; the test proves nothing");
        var resumed = proxy.RequestHeads.Where(h => h.Contains("/events", StringComparison.Ordinal) && h.Contains("Last-Event-ID: ", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.NotEmpty(resumed);
        // The server honours Last-Event-ID: what the client saw is not sent again after a reconnect (keep-alives
        // come only every 15 s), so no status repeats its predecessor.
        for (int i = 1; i < seen.Count; i++)
            Assert.False(seen[i].State == seen[i - 1].State && seen[i].FramesDone == seen[i - 1].FramesDone && seen[i].Retries == seen[i - 1].Retries,
                $"status {i} repeats {seen[i - 1].State} {seen[i - 1].FramesDone}");

        // And the CLI through the same proxy: exit 0, the terminal state last.
        var watch = await RunAsync(proxy.Url, api.KeyA, "watch", job.JobId);
        Assert.True(watch.ExitCode == 0, watch.ToString());
        Assert.Contains($"job {job.JobId}: Completed", watch.Stdout);
        AssertNoStackTrace(watch);
    }

    [Fact]
    public async Task An_event_stream_resumed_after_the_terminal_event_repeats_only_the_terminal_state()
    {
        using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = api.Silo.HttpBase, ApiKey = api.KeyB });
        var job = await client.SubmitAsync(LongJob with { Frames = 8 });
        JobView? last = null;
        await foreach (var status in client.WatchAsync(job.JobId)) last = status;

        using var http = api.Http(api.KeyB);
        using var request = Get($"v1/jobs/{job.JobId}/events", api.KeyB);
        request.Headers.Add("Last-Event-ID", $"Completed.8.{last!.Retries}");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await ReadEventsAsync(response, CancellationToken.None);
        var only = Assert.Single(events);
        Assert.Equal("Completed", only.Data.GetProperty("state").GetString());
        Assert.Equal($"Completed.8.{last.Retries}", only.Id);
    }

    [Fact]
    public async Task A_submit_whose_answer_was_lost_is_retried_without_creating_a_second_job()
    {
        var handler = new LoseFirstAnswer(new SocketsHttpHandler());
        using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = api.Silo.HttpBase, ApiKey = api.KeyB, Handler = handler });
        var jobId = "lost-" + Guid.NewGuid().ToString("N")[..8];
        var job = await client.SubmitAsync(LongJob with { Frames = 8 }, jobId);

        Assert.Equal(jobId, job.JobId);
        Assert.Equal(2, handler.Posts); // the first attempt created the job, its answer never arrived
        using var http = api.Http(api.KeyB);
        var list = await JsonOf(await http.GetAsync("v1/jobs"));
        Assert.Single(list.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("jobId").GetString() == jobId);

        // The same id with another spec is still a conflict: only our own job counts as the earlier attempt.
        var other = new ScmApiClient(new ScmApiClientOptions { BaseAddress = api.Silo.HttpBase, ApiKey = api.KeyB, Handler = new LoseFirstAnswer(new SocketsHttpHandler()) });
        using (other)
        {
            var e = await Assert.ThrowsAsync<ScmApiException>(() => other.SubmitAsync(LongJob with { Frames = 12 }, jobId));
            Assert.Equal(ApiErrorKind.Conflict, e.Kind);
        }
    }

    /// <summary>Sends the first POST to the server, then throws as if the connection dropped before the answer.</summary>
    sealed class LoseFirstAnswer(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        int posts;
        public int Posts => posts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && Interlocked.Increment(ref posts) == 1)
            {
                response.Dispose();
                throw new HttpRequestException(HttpRequestError.ResponseEnded, "the connection dropped before the answer (test)");
            }
            return response;
        }
    }
}
