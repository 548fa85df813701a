using System.Text.Json;
using Grains.Interfaces;
using HttpApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Cluster.Tests;

/// <summary>
/// Each <see cref="RejectionKind"/> → the status code and problem body the HTTP API writes for it, without a cluster:
/// the results are executed against the API's own services (problem details, JSON options). The web console and
/// scmctl read these bodies, so their shape is what is pinned here.
/// </summary>
[Trait("Category", "Unit")]
public class RejectionProblemTests
{
    static readonly IServiceProvider Services = ApiServices();
    static readonly FieldError FramesRange = FieldError.Of("frames", "must be in [1, 10000], got 0");
    static readonly FieldError FramesOther = FieldError.Of("frames", "another rule");
    static readonly FieldError Fps = FieldError.Of("fps", "must be in [1, 60], got 0");

    [Fact]
    public async Task Invalid_is_a_400_validation_problem_whose_errors_map_each_field_to_its_messages()
    {
        var problem = await ExecuteAsync(Problems.Rejected(Rejection.Invalid([FramesRange, Fps, FramesOther]), invalidTitle: "The job spec is invalid"), 400);
        Assert.Equal("The job spec is invalid", problem.GetProperty("title").GetString());
        var errors = problem.GetProperty("errors");
        Assert.Equal(["frames", "fps"], errors.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["frames: must be in [1, 10000], got 0", "frames: another rule"], Strings(errors.GetProperty("frames")));
        Assert.Equal(["fps: must be in [1, 60], got 0"], Strings(errors.GetProperty("fps")));
        Assert.Equal("The request is invalid", (await ExecuteAsync(Problems.Rejected(Rejection.Invalid([Fps])), 400)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task The_field_comes_from_the_error_never_from_splitting_its_message()
    {
        // A property name with a colon is reported under "body"; its message must not be cut at the colon.
        var odd = new FieldError("body", "body: unknown property 'fr:ames'");
        var errors = (await ExecuteAsync(Problems.Rejected(Rejection.Invalid([odd])), 400)).GetProperty("errors");
        Assert.Equal(["body: unknown property 'fr:ames'"], Strings(errors.GetProperty("body")));
        Assert.Single(errors.EnumerateObject());
    }

    [Fact]
    public async Task QuotaExceeded_is_a_429_naming_each_quota_with_the_tenants_usage_and_limits()
    {
        var quotas = new[]
        {
            new FieldError("maxQueuedFrames", "quota maxQueuedFrames: 3 frames queued + 8 would exceed 4"),
            new FieldError("maxRunningJobs", "quota maxRunningJobs: 1 of 1 jobs are queued or running"),
        };
        var tenant = new TenantInfo { Id = "t", Quota = new TenantQuota { MaxQueuedFrames = 4 }, Usage = new TenantUsage { QueuedFrames = 3 } };
        var problem = await ExecuteAsync(Problems.Rejected(Rejection.QuotaExceeded(quotas), tenant), 429);
        Assert.Equal("Quota exceeded", problem.GetProperty("title").GetString());
        Assert.Equal(string.Join("; ", quotas.Select(q => q.Message)), problem.GetProperty("detail").GetString());
        Assert.Equal(quotas.Select(q => (q.Field, q.Message)),
            problem.GetProperty("quotas").EnumerateArray().Select(q => (q.GetProperty("quota").GetString()!, q.GetProperty("detail").GetString()!)));
        Assert.Equal(3, problem.GetProperty("usage").GetProperty("queuedFrames").GetInt32());
        Assert.Equal(4, problem.GetProperty("limits").GetProperty("maxQueuedFrames").GetInt32());
        Assert.False(problem.TryGetProperty("errors", out _));
    }

    [Fact]
    public async Task Conflict_is_a_409_and_NotFound_a_404_with_the_message_as_detail()
    {
        var conflict = await ExecuteAsync(Problems.Rejected(Rejection.Conflict("tenant", "'acme' already exists")), 409);
        Assert.Equal("Conflict", conflict.GetProperty("title").GetString());
        Assert.Equal("tenant: 'acme' already exists", conflict.GetProperty("detail").GetString());
        var missing = await ExecuteAsync(Problems.Rejected(Rejection.NotFound("tenant", "'ghost' does not exist")), 404);
        Assert.Equal("Not found", missing.GetProperty("title").GetString());
        Assert.Equal("tenant: 'ghost' does not exist", missing.GetProperty("detail").GetString());
        Assert.False(missing.TryGetProperty("errors", out _));
    }

    [Fact]
    public async Task Every_kind_has_its_own_status_code()
    {
        var statuses = new List<int>();
        foreach (var kind in Enum.GetValues<RejectionKind>())
        {
            var http = NewContext();
            await Problems.Rejected(new Rejection(kind, [Fps])).ExecuteAsync(http);
            statuses.Add(http.Response.StatusCode);
        }
        Assert.Equal([400, 429, 409, 404], statuses);
    }

    [Fact]
    public async Task A_RejectedException_from_the_api_grain_becomes_the_problem_of_its_kind()
    {
        foreach (var (rejection, status) in new[]
                 {
                     (Rejection.Invalid("weight", "must be in [0.001, 1000], got 0"), 400),
                     (Rejection.Conflict("tenant", "'acme' already exists"), 409),
                     (Rejection.NotFound("tenant", "'ghost' does not exist"), 404),
                 })
        {
            var http = NewContext();
            var result = await HttpApiExtensions.MapClusterErrors(new DefaultEndpointFilterInvocationContext(http),
                _ => throw new RejectedException(rejection));
            var problem = await ExecuteAsync(Assert.IsAssignableFrom<IResult>(result), status);
            if (status == 400) Assert.Equal([rejection.Errors[0].Message], Strings(problem.GetProperty("errors").GetProperty(rejection.Errors[0].Field)));
            else Assert.Equal(rejection.Errors[0].Message, problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public void A_RejectedException_crosses_the_wire_with_its_kind_and_field_errors()
    {
        var serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(Rejection).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();
        var sent = new RejectedException(Rejection.Invalid([FramesRange, Fps]));
        var received = Assert.IsType<RejectedException>(serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(sent)));
        Assert.Equal(RejectionKind.Invalid, received.Rejection.Kind);
        Assert.Equal([FramesRange, Fps], received.Rejection.Errors);
        Assert.Equal("frames: must be in [1, 10000], got 0; fps: must be in [1, 60], got 0", received.Message);
    }

    static async Task<JsonElement> ExecuteAsync(IResult result, int status)
    {
        var http = NewContext();
        await result.ExecuteAsync(http);
        Assert.Equal(status, http.Response.StatusCode);
        Assert.StartsWith("application/problem+json", http.Response.ContentType);
        http.Response.Body.Position = 0;
        var problem = (await JsonDocument.ParseAsync(http.Response.Body)).RootElement.Clone();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    static DefaultHttpContext NewContext() => new() { RequestServices = Services, Response = { Body = new MemoryStream() } };

    static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>The services <see cref="HttpApiExtensions.AddHttpApi"/> registers, so JSON options and problem details are the API's.</summary>
    static IServiceProvider ApiServices()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddHttpApi();
        return builder.Build().Services;
    }
}
