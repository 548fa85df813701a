using System.Net;

namespace BlobStorage.Tests;

/// <summary>
/// A fake storage endpoint: answers container creation with 201 and every other request with the next scripted
/// outcome (a status code, or an exception as a dropped connection would raise). Counts what it was asked.
/// </summary>
internal sealed class ScriptedHttpHandler : HttpMessageHandler
{
    private readonly Queue<Func<HttpResponseMessage>> script = new();
    private readonly Func<HttpResponseMessage> afterScript;
    private int blobRequests;

    public ScriptedHttpHandler(Func<HttpResponseMessage> afterScript)
    {
        this.afterScript = afterScript;
    }

    public int BlobRequests => Volatile.Read(ref blobRequests);

    public ScriptedHttpHandler Then(HttpStatusCode status)
    {
        script.Enqueue(() => Respond(status));
        return this;
    }

    public ScriptedHttpHandler ThenThrow(Func<Exception> failure)
    {
        script.Enqueue(() => throw failure());
        return this;
    }

    public static HttpResponseMessage Respond(HttpStatusCode status)
    {
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent([]) };
        response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0x1\"");
        response.Content.Headers.LastModified = DateTimeOffset.UtcNow;
        response.Headers.Add("x-ms-request-id", Guid.NewGuid().ToString());
        if ((int)status >= 400)
        {
            response.Headers.Add("x-ms-error-code", status.ToString());
        }

        return response;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri!.Query.Contains("restype=container", StringComparison.Ordinal))
        {
            return Task.FromResult(Respond(HttpStatusCode.Created));
        }

        Interlocked.Increment(ref blobRequests);
        Func<HttpResponseMessage> next;
        lock (script)
        {
            next = script.Count > 0 ? script.Dequeue() : afterScript;
        }

        return Task.FromResult(next());
    }
}
