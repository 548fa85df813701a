using System.Net;
using ApiClient;
using static Cluster.Tests.Scmctl.ScmctlProcess;

namespace Cluster.Tests.Scmctl;

/// <summary>The client under failure, without a cluster: scripted 503s, a port nobody listens on.</summary>
public sealed class ScmctlRetryTests
{
    const string JobJson = """{"jobId":"j1","state":"Running","framesTotal":8,"framesDone":4,"coordinatorSilo":"silo-2","links":{"self":"/v1/jobs/j1"}}""";

    [Fact]
    public async Task Idempotent_calls_ride_through_503s_honouring_Retry_After()
    {
        await using var server = new FakeApiServer(FakeApiServer.Unavailable, FakeApiServer.Unavailable, new(200, JobJson, ContentType: "application/json"));
        using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = server.Url, ApiKey = "scm_0123456789abcdef_x", CallTimeout = TimeSpan.FromSeconds(20) });
        var started = DateTime.UtcNow;
        var job = await client.GetJobAsync("j1");
        Assert.Equal(3, server.Requests);
        Assert.Equal("silo-2", job!.CoordinatorSilo);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.8), "Retry-After: 1 was not honoured"); // two waits of 1 s
    }

    /// <summary>A read refused because the key's downloads are all in flight (429 + Retry-After) is retried; a submit's 429 (a quota) is not.</summary>
    [Fact]
    public async Task A_busy_read_is_retried_after_its_Retry_After_and_a_quota_refusal_is_the_answer()
    {
        var busy = new FakeApiServer.Answer(429, """{"status":429,"title":"Too many downloads","detail":"HttpApi:MaxDownloadsPerKey"}""", RetryAfter: "1");
        await using (var server = new FakeApiServer(busy, new(200, JobJson, ContentType: "application/json")))
        {
            using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = server.Url, ApiKey = "scm_0123456789abcdef_x", CallTimeout = TimeSpan.FromSeconds(20) });
            var job = await client.GetJobAsync("j1");
            Assert.Equal((2, "silo-2"), (server.Requests, job!.CoordinatorSilo));
        }
        var quota = new FakeApiServer.Answer(429, """{"status":429,"title":"Quota exceeded","detail":"running jobs: 2 of 2"}""", RetryAfter: "1");
        await using (var server = new FakeApiServer(quota))
        {
            using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = server.Url, ApiKey = "scm_0123456789abcdef_x", CallTimeout = TimeSpan.FromSeconds(20) });
            var e = await Assert.ThrowsAsync<ScmApiException>(() => client.SubmitAsync(new JobRequest { Frames = 4 }, "j1"));
            Assert.Equal((ApiErrorKind.Quota, 1), (e.Kind, server.Requests));
        }
    }

    [Fact]
    public async Task Retries_stop_at_the_deadline_with_one_line_naming_the_cause()
    {
        await using var server = new FakeApiServer(FakeApiServer.Unavailable);
        var started = DateTime.UtcNow;
        var result = await RunAsync(server.Url, "scm_0123456789abcdef_x", "status", "j1", "--timeout", "3");
        var elapsed = DateTime.UtcNow - started;
        Assert.Equal(ExitCodesUnavailable, result.ExitCode);
        var line = AssertOneLineError(result);
        Assert.Contains("within 3 s", line);
        Assert.Contains("503", line);
        Assert.Contains("the cluster did not answer in time", line);
        Assert.Equal("", result.Stdout);
        Assert.True(server.Requests >= 2, $"{server.Requests} requests");
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"took {elapsed}");
    }

    [Fact]
    public async Task A_refused_connection_is_one_line_without_a_stack_trace_unless_verbose()
    {
        var nobody = new Uri($"http://127.0.0.1:{TestEnvironment.FreeLoopbackPort()}/");
        foreach (var args in new[] { new[] { "status", "j1" }, ["list"], ["cluster"], ["watch", "j1"], ["submit", "--frames", "4"], ["fetch", "j1"] })
        {
            var result = await RunAsync(nobody, "scm_0123456789abcdef_x", [.. args, "--timeout", "2"]);
            Assert.True(result.ExitCode == ExitCodesUnavailable, $"{string.Join(' ', args)}: {result}");
            var line = AssertOneLineError(result);
            Assert.Contains("Connection refused", line);
            Assert.Equal("", result.Stdout);
        }
        var verbose = await RunAsync(nobody, "scm_0123456789abcdef_x", "status", "j1", "--timeout", "1", "--verbose");
        Assert.Equal(ExitCodesUnavailable, verbose.ExitCode);
        Assert.Matches(StackFrame(), verbose.Stderr); // only --verbose shows where
        Assert.Contains("retry", verbose.Stderr); // retries are logged on stderr, never stdout
        Assert.Equal("", verbose.Stdout);
    }

    [Fact]
    public async Task Calls_that_are_not_idempotent_are_not_retried_once_sent()
    {
        await using var server = new FakeApiServer(FakeApiServer.Unavailable);
        using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = server.Url, ApiKey = "scm_0123456789abcdef_x", CallTimeout = TimeSpan.FromSeconds(5) });
        var e = await Assert.ThrowsAsync<ScmApiException>(() => client.RotateKeyAsync("acme"));
        Assert.Equal(ApiErrorKind.Unavailable, e.Kind);
        Assert.Equal(1, server.Requests); // a second attempt would issue (and lose) a second key
        Assert.Equal((int)HttpStatusCode.ServiceUnavailable, e.Status);
    }

    /// <summary>
    /// A watch whose stream goes silent without closing (the silo's machine or the network vanished: no FIN, no RST)
    /// reconnects once nothing, not even a keep-alive, came for WatchIdleTimeout, and resumes after the last event.
    /// </summary>
    [Fact]
    public async Task A_silent_event_stream_is_dropped_after_the_idle_timeout_and_the_watch_resumes()
    {
        static FakeApiServer.Answer Events(string id, string json, bool holdOpen) =>
            new(200, $"id: {id}\nevent: status\ndata: {json}\n\n", ContentType: "text/event-stream", HoldOpen: holdOpen);
        await using var server = new FakeApiServer(Events("1", JobJson, holdOpen: true), Events("2", JobJson.Replace("\"Running\"", "\"Completed\",\"isTerminal\":true"), holdOpen: false));
        var log = new StringWriter();
        using var client = new ScmApiClient(new ScmApiClientOptions
        {
            BaseAddress = server.Url, ApiKey = "scm_0123456789abcdef_x", WatchIdleTimeout = TimeSpan.FromSeconds(1), RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            Log = TextWriter.Synchronized(log),
        });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var states = new List<string>();
        try
        {
            await foreach (var job in client.WatchAsync("j1", deadline.Token)) states.Add(job.State.ToString());
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the watch did not end within 30 s; states {string.Join(", ", states)}; log:\n{log}");
        }

        Assert.Equal(["Running", "Completed"], states);
        Assert.Equal(2, server.Requests);
    }

    /// <summary>The server's keep-alive resends the unchanged status under the same event id: a watch yields changes only.</summary>
    [Fact]
    public async Task A_watch_yields_each_status_once_though_keep_alives_resend_it()
    {
        string completed = JobJson.Replace("\"Running\"", "\"Completed\",\"isTerminal\":true");
        string stream = $"id: 1\nevent: status\ndata: {JobJson}\n\n: keep-alive\n\nid: 1\nevent: status\ndata: {JobJson}\n\nid: 2\nevent: status\ndata: {completed}\n\n";
        await using var server = new FakeApiServer(new FakeApiServer.Answer(200, stream, ContentType: "text/event-stream"));
        using var client = new ScmApiClient(new ScmApiClientOptions { BaseAddress = server.Url, ApiKey = "scm_0123456789abcdef_x" });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var states = new List<string>();
        await foreach (var job in client.WatchAsync("j1", deadline.Token)) states.Add(job.State.ToString());

        Assert.Equal(["Running", "Completed"], states);
    }

    const int ExitCodesUnavailable = 7;
}
