using System.Text.Json.Serialization;
using Grains.Interfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HttpApi;

/// <summary>
/// Hooks the HTTP API into the silo's web host: <c>builder.AddHttpApi()</c> and <c>app.MapHttpApi()</c>. With
/// HttpApi:Enabled true (the default) they add the /v1 routes (jobs, usage, admin) and the OpenAPI document; with it
/// false both do nothing, so neither the routes nor the OpenAPI document exist (404). HttpApi:Console (default true) adds the
/// web console at /console/, which uses nothing but these routes.
/// </summary>
public static class HttpApiExtensions
{
    /// <summary>Every problem with the HttpApi section, each naming its key (none when the API is off).</summary>
    public static IReadOnlyList<string> ConfigurationProblems(IConfiguration configuration) =>
        ValidatedOptions.ProblemsOf<HttpApiOptions>(configuration.GetSection(HttpApiOptions.Section));

    public static WebApplicationBuilder AddHttpApi(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(HttpApiOptions.Section);
        if (!ValidatedOptions.Read<HttpApiOptions>(section).Enabled) return builder;

        builder.Services.AddValidatedOptions<HttpApiOptions>(section);
        builder.Services.AddSingleton<ClusterApiCaller>();
        builder.Services.AddKeyedSingleton<KeySlots>(KeySlots.EventStreams);
        builder.Services.AddKeyedSingleton<KeySlots>(KeySlots.Downloads);
        builder.Services.AddProblemDetails();
        // Enums as names ("Completed", "Video") in responses, events and the OpenAPI schemas alike; numbers as
        // numbers, so the published schemas match JobSpecReader's strict parsing (no "8" for 8).
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddOpenApi("v1", OpenApiDocumentSetup.Configure);
        return builder;
    }

    public static WebApplication MapHttpApi(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IConfiguration>().GetSection(HttpApiOptions.Section).GetValue(nameof(HttpApiOptions.Enabled), true))
            return app;
        app.MapOpenApi(); // /openapi/v1.json
        // What routing refuses by itself (an unknown /v1 path, a wrong method) would otherwise be a bodiless 404/405;
        // with AddProblemDetails this writes a problem document instead, like every other /v1 answer.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/v1"), v1 => v1.UseStatusCodePages().Use(NotStoredByCaches));
        app.MapGroup("/v1").WithTags("jobs").AddEndpointFilter(MapClusterErrors)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .MapJobs().MapThumbnails();
        app.MapGroup("/v1").WithTags("admin").AddEndpointFilter(MapClusterErrors)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .MapAdmin();
        if (app.Services.GetRequiredService<IOptions<HttpApiOptions>>().Value.Console) app.MapConsole(); // /console/: static files over these routes
        return app;
    }

    /// <summary>
    /// <c>Cache-Control: no-store</c> on every /v1 answer that does not set its own: issued API keys, tenants' usage and
    /// job listings are private, and a shared cache (a proxy, a CDN in front of the API) must not keep them. A route
    /// whose content may be cached privately says so itself (thumbnails: <c>private, no-cache</c>).
    /// </summary>
    static Task NotStoredByCaches(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(() =>
        {
            if (!context.Response.Headers.ContainsKey("Cache-Control")) context.Response.Headers.CacheControl = "no-store";
            return Task.CompletedTask;
        });
        return next(context);
    }

    /// <summary>Turns the cluster's refusals and outages into problem responses for every /v1 route.</summary>
    public static async ValueTask<object?> MapClusterErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ApiAuthException e)
        {
            if (e.Problem is not (AuthProblem.NotAdmin or AuthProblem.NotPermitted))
                context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer realm=\"scm\"";
            return Problems.Auth(e);
        }
        catch (TimeoutException)
        {
            SetRetryAfter(context.HttpContext);
            return Problems.Unavailable("the cluster did not answer in time (HttpApi:CallTimeout)");
        }
        catch (StorageUnavailableException e)
        {
            // Redis down or slow: nothing was wrong with the request, so the same request is worth repeating.
            context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, e.RetryAfterSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.StorageUnavailable(e.Cause);
        }
        catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException)
        {
            SetRetryAfter(context.HttpContext);
            return Problems.Unavailable("the cluster is not reachable from this silo right now");
        }
        catch (RejectedException e)
        {
            // The API grain's refusals of admin arguments and usage reads: 400, 404 or 409 by their kind.
            return Problems.Rejected(e.Rejection);
        }
        catch (OrleansException e) when (!context.HttpContext.Response.HasStarted)
        {
            // Any other failed cluster call (a grain threw, a call was cut): not the request's fault, worth repeating.
            LogFailure(context.HttpContext, e);
            SetRetryAfter(context.HttpContext);
            return Problems.Unavailable("a cluster call failed; retry after the Retry-After delay");
        }
        catch (Exception e) when (e is not (OperationCanceledException or BadHttpRequestException) && !context.HttpContext.Response.HasStarted)
        {
            // (A hung-up client, and a request ASP.NET itself refuses with its own status, pass through.)
            // A bug or a corrupt stored object (a manifest that is not JSON, a frame that is not a PNG): a problem document
            // that names the request in the silo's log, never a bare 500 with nothing to go on.
            LogFailure(context.HttpContext, e);
            return Problems.Internal(context.HttpContext.TraceIdentifier);
        }
    }

    static void LogFailure(HttpContext http, Exception e) =>
        http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("HttpApi").LogError(e, "{Method} {Path} failed (request {TraceId})",
            http.Request.Method, http.Request.Path, http.TraceIdentifier);

    /// <summary>Every 503 (and a refused event stream's 429) says when to come back (clients' retry policies honour it).</summary>
    internal static void SetRetryAfter(HttpContext http)
    {
        var seconds = http.RequestServices.GetService<IOptions<HttpApiOptions>>()?.Value.RetryAfter.TotalSeconds ?? 5;
        http.Response.Headers.RetryAfter = ((int)Math.Ceiling(seconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
