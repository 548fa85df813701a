using System.Text;
using HttpApi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Cluster.Tests;

/// <summary>
/// An optional JSON body (key rotation's {"keepOld": true}) is read whatever framing carried it. An HTTP/2 request
/// streams its body with neither Content-Length nor Transfer-Encoding; the route once took that for "no body", so
/// keepOld was dropped and the rotation revoked every other key of the tenant.
/// </summary>
public class JsonBodyTests
{
    sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => canHaveBody;
    }

    /// <summary>A request as Kestrel hands it over: HTTP/2-style when no length header is set and a body may follow.</summary>
    static HttpRequest Request(string body, bool canHaveBody = true, string? contentType = "application/json", long? contentLength = null)
    {
        var http = new DefaultHttpContext();
        http.Features.Set<IHttpRequestBodyDetectionFeature>(new BodyDetection(canHaveBody));
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        http.Request.ContentType = contentType;
        http.Request.ContentLength = contentLength;
        return http.Request;
    }

    static Task<(IssueKeyRequest? Value, IResult? Problem)> Read(HttpRequest request) =>
        JsonBody.ReadOptionalAsync<IssueKeyRequest>(request, 1024, CancellationToken.None);

    [Fact]
    public async Task A_body_streamed_without_length_headers_is_read()
    {
        var request = Request("""{"keepOld":true}""");
        Assert.Null(request.ContentLength);
        Assert.Equal(0, request.Headers.TransferEncoding.Count);

        var (value, problem) = await Read(request);
        Assert.Null(problem);
        Assert.True(value!.KeepOld);
    }

    [Theory]
    [InlineData(false, null)]    // no body at all (HTTP/1.1 without a length; HTTP/2 headers that end the stream)
    [InlineData(true, null)]     // a stream that turns out empty
    [InlineData(true, 0L)]       // Content-Length: 0
    public async Task No_body_or_an_empty_one_gives_the_defaults(bool canHaveBody, long? contentLength)
    {
        var (value, problem) = await Read(Request("", canHaveBody, contentType: null, contentLength));
        Assert.Null(problem);
        Assert.False(value!.KeepOld);
    }

    [Theory]
    [InlineData("""{"keepOld":"yes"}""", "application/json")]
    [InlineData("""{"keepOld":true,"revokeAll":true}""", "application/json")]
    [InlineData("""{"keepOld":true}""", "text/plain")]
    public async Task A_body_that_is_there_is_read_as_strictly_as_any(string body, string contentType)
    {
        var (value, problem) = await Read(Request(body, contentType: contentType));
        Assert.Null(value);
        Assert.NotNull(problem);
    }

    [Fact]
    public async Task A_streamed_body_over_the_limit_is_refused_while_reading()
    {
        var (value, problem) = await Read(Request("{\"keepOld\":true," + new string(' ', 2000) + "}"));
        Assert.Null(value);
        Assert.NotNull(problem);
    }
}
