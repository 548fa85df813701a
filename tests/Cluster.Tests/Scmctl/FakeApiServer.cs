using System.Net;
using System.Text;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// A scripted HTTP server on loopback (HttpListener): each request gets the next scripted answer (the last one
/// repeats). For the client's retry policy, without a cluster.
/// </summary>
sealed class FakeApiServer : IAsyncDisposable
{
    /// <param name="HoldOpen">Send the body, then keep the connection open and silent (a peer that vanished without closing it).</param>
    public sealed record Answer(int Status, string Body, string? RetryAfter = null, string ContentType = "application/problem+json", bool HoldOpen = false);

    readonly HttpListener listener = new();
    readonly Answer[] script;
    readonly Task loop;
    readonly List<HttpListenerResponse> held = [];
    int requests;

    public FakeApiServer(params Answer[] script)
    {
        this.script = script;
        int port = TestEnvironment.FreeLoopbackPort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(Url.ToString());
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }
    public int Requests => Volatile.Read(ref requests);

    public static Answer Unavailable => new(503, """{"status":503,"title":"Cluster unavailable","detail":"the cluster did not answer in time (HttpApi:CallTimeout)"}""", RetryAfter: "1");

    async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            int n = Interlocked.Increment(ref requests);
            var answer = script[Math.Min(n, script.Length) - 1];
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            if (answer.RetryAfter is not null) context.Response.Headers["Retry-After"] = answer.RetryAfter;
            var bytes = Encoding.UTF8.GetBytes(answer.Body);
            // A client that gave up (its deadline passed) hangs up mid-answer: normal here, not a server failure.
            try
            {
                await context.Response.OutputStream.WriteAsync(bytes);
                if (answer.HoldOpen)
                {
                    await context.Response.OutputStream.FlushAsync();
                    lock (held) held.Add(context.Response);
                    continue;
                }
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                context.Response.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (held) foreach (var response in held) response.Abort();
        listener.Stop();
        listener.Close();
        await loop;
    }
}
