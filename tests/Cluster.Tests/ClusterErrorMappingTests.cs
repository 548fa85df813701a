using HttpApi;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests;

/// <summary>
/// Every /v1 failure reaches the client as a problem document: a failed cluster call as a 503 to retry, anything else
/// (a corrupt stored manifest or frame, a bug) as a 500 naming the request in the silo's log, never a bare status.
/// </summary>
public class ClusterErrorMappingTests
{
    /// <summary>A request as ASP.NET hands it over: with its services (the logger the failure goes to).</summary>
    static DefaultHttpContext Request() => new() { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };

    static async Task<object?> Map(Exception thrown, HttpContext? http = null)
    {
        var context = EndpointFilterInvocationContext.Create(http ?? Request());
        return await HttpApiExtensions.MapClusterErrors(context, _ => throw thrown);
    }

    [Fact]
    public async Task A_failed_cluster_call_is_a_503_with_Retry_After()
    {
        var http = Request();
        var result = Assert.IsType<ProblemHttpResult>(await Map(new OrleansException("a grain threw"), http));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, result.StatusCode);
        Assert.False(string.IsNullOrEmpty(http.Response.Headers.RetryAfter));
    }

    [Fact]
    public async Task A_corrupt_stored_object_is_a_500_problem_naming_the_request()
    {
        var http = Request();
        http.TraceIdentifier = "trace-42";
        var result = Assert.IsType<ProblemHttpResult>(await Map(new InvalidDataException("not a PNG"), http));
        Assert.Equal(StatusCodes.Status500InternalServerError, result.StatusCode);
        Assert.Contains("trace-42", result.ProblemDetails.Detail);
        Assert.DoesNotContain("not a PNG", result.ProblemDetails.Detail); // the cause stays in the silo's log
    }

    [Fact]
    public async Task A_client_that_hung_up_and_a_request_ASP_NET_refuses_itself_pass_through()
    {
        await Assert.ThrowsAsync<OperationCanceledException>(() => Map(new OperationCanceledException()));
        var refused = await Assert.ThrowsAsync<BadHttpRequestException>(() => Map(new BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge)));
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, refused.StatusCode);
    }
}
