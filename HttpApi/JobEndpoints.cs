using System.Globalization;
using System.Security.Cryptography;
using BlobStorage;
using Grains.Interfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace HttpApi;

/// <summary>
/// The /v1/jobs routes. Each handler authenticates through <see cref="ClusterApiCaller"/> (the API grain), so a
/// tenant reaches only its own jobs and another tenant's job answers exactly like a missing one (404).
/// Cancel is the custom method POST /v1/jobs/{id}:cancel rather than DELETE: the job is not removed, its status,
/// frames and manifest stay readable.
/// </summary>
public static class JobEndpoints
{
    public static string JobPath(string jobId) => "/v1/jobs/" + Uri.EscapeDataString(jobId);

    public static RouteGroupBuilder MapJobs(this RouteGroupBuilder v1)
    {
        var jobs = v1.MapGroup("/jobs");
        jobs.MapPost("", Submit).WithName("SubmitJob").WithSummary("Submit a job")
            .WithDescription("Body: a job spec. Optional query jobId (1-64 of [A-Za-z0-9-_]; default: generated). 202 with Location of the job.")
            // Described by a transformer rather than Accepts<JobSpec>(): Accepts would make routing answer a wrong
            // Content-Type with an empty 415 before the handler, where it gets a problem document instead.
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) => operation.RequestBody = new OpenApiRequestBody
            {
                Required = true, Description = "A job spec; unknown properties are rejected.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(JobSpec), null, cancellationToken) },
                },
            })
            .Produces<JobResource>(StatusCodes.Status202Accepted).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status429TooManyRequests);
        jobs.MapGet("", List).WithName("ListJobs").WithSummary("The caller's jobs, oldest first, a page at a time")
            .WithDescription($"Query limit: jobs per page, 1-{JobPage.MaxLimit} (default {JobPage.DefaultLimit}); after: the 'next' of the previous page " +
                "(absent: the first page). 'next' is null on the last page.")
            .ProducesValidationProblem();
        jobs.MapGet("/{id}", Get).WithName("GetJob").WithSummary("A job's status").ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapPost("/{id}:cancel", Cancel).WithName("CancelJob").WithSummary("Cancel a queued or running job")
            .WithDescription("Idempotent for a cancelled job; 409 for a completed or failed one.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        jobs.MapGet("/{id}/events", Events).WithName("WatchJob").WithSummary("Progress as server-sent events")
            .WithDescription("text/event-stream of 'status' events (data: the job; id: state.framesDone.retries) whenever progress changes; " +
                "the last one is terminal, then the stream ends. Reconnect with Last-Event-ID to skip what was seen. A stream the silo must cut " +
                "ends with an 'unavailable' event (reason, retryAfterSeconds; reconnect), a revoked key with an 'error' event. " +
                "A key holds at most HttpApi:MaxEventStreamsPerKey open streams per silo (default 32); one more is 429 with Retry-After.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        jobs.MapGet("/{id}/frames/{index:int}", Frame).WithName("GetFrame").WithSummary("One rendered frame (PNG)")
            .Produces<Stream>(StatusCodes.Status200OK, "image/png").ProducesProblem(StatusCodes.Status404NotFound);
        // Any index the int route refuses ("abc", "1e3", "99999999999"): a 400 naming the field rather than routing's
        // bodiless 404. The constrained route above takes precedence for every int.
        jobs.MapGet("/{id}/frames/{index}", BadFrameIndex).ExcludeFromDescription();
        const string downloadLimit = "A key has at most HttpApi:MaxDownloadsPerKey video and manifest downloads in flight per silo (default 8); " +
            "one more is 429 with Retry-After.";
        jobs.MapGet("/{id}/video", Video).WithName("GetVideo").WithSummary("The job's MP4 (when the spec asked for mp4)").WithDescription(downloadLimit)
            .Produces<Stream>(StatusCodes.Status200OK, "video/mp4").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        jobs.MapGet("/{id}/manifest", Manifest).WithName("GetManifest").WithSummary("The completed job's manifest (frames, SHA-256, seeds, timings)")
            .WithDescription(downloadLimit)
            .Produces<Stream>(StatusCodes.Status200OK, "application/json").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return jobs;
    }

    /// <summary>IResult rather than a Results union: <see cref="Problems.Rejected"/> picks the problem type by the rejection's kind.</summary>
    static async Task<IResult> Submit(HttpContext http, ClusterApiCaller api, [FromQuery] string? jobId)
    {
        const string invalidTitle = "The job spec is invalid";
        // Authenticate before looking at the body: an anonymous caller learns nothing about validation.
        await api.WhoAmI(http);
        var read = await JobSpecReader.ReadAsync(http.Request, api.Options.MaxRequestBodyBytes, http.RequestAborted);
        if (read.Problem is { } problem) return problem;
        var invalidSpec = JobSpecValidator.Validate(read.Spec, api.Limits);
        if (invalidSpec.Count > 0) return Problems.Invalid(invalidSpec, invalidTitle);
        jobId ??= $"j{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

        var result = await api.Submit(http, jobId, read.Spec!);
        if (result.Rejection is not { } rejection) return TypedResults.Accepted(JobPath(jobId), JobResource.From(result.Status!));
        // A submit's one conflict is a taken job id; the detail adds what to do about it.
        if (rejection.Kind == RejectionKind.Conflict) return Problems.Conflict($"{rejection}; choose another id");
        return Problems.Rejected(rejection, rejection.Kind == RejectionKind.QuotaExceeded ? await api.Usage(http) : null, invalidTitle);
    }

    static async Task<Results<Ok<JobList>, ValidationProblem>> List(HttpContext http, ClusterApiCaller api, string? limit, string? after)
    {
        int size = JobPage.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > JobPage.MaxLimit))
            return Problems.Invalid("limit", $"must be an integer in [1, {JobPage.MaxLimit}], got {JobSpecValidator.Echo(limit)}");
        var page = await api.List(http, after, size);
        return TypedResults.Ok(new JobList(page.Jobs.Select(JobResource.From).ToArray(), page.Next));
    }

    static async Task<Results<Ok<JobResource>, ProblemHttpResult>> Get(HttpContext http, ClusterApiCaller api, string id) =>
        await api.Status(http, id) is { } status ? TypedResults.Ok(JobResource.From(status)) : Problems.JobNotFound(id);

    static async Task<Results<Ok<JobResource>, ProblemHttpResult>> Cancel(HttpContext http, ClusterApiCaller api, string id)
    {
        if (await api.Status(http, id) is null) return Problems.JobNotFound(id);
        await api.Cancel(http, id);
        // Re-read: the job may have finished between the two calls, which decides between 200 and 409.
        var status = await api.Status(http, id);
        if (status is null) return Problems.JobNotFound(id);
        return status.State == JobState.Cancelled
            ? TypedResults.Ok(JobResource.From(status))
            : Problems.Conflict($"job '{id}' is {status.State}; only queued or running jobs can be cancelled");
    }

    static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> Events(HttpContext http, ClusterApiCaller api,
        IHostApplicationLifetime lifetime, [FromKeyedServices(KeySlots.EventStreams)] KeySlots slots, string id)
    {
        var first = await api.Status(http, id);
        if (first is null) return Problems.JobNotFound(id);
        if (TakeSlot(http, slots, api.Options.MaxEventStreamsPerKey, Problems.TooManyStreams) is { } refused) return refused;
        // EventSource and scmctl send the id of the last event they saw when they reconnect.
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        var stream = JobEventStream.Watch(api, ClusterApiCaller.ApiKeyOf(http.Request), first, lastEventId, lifetime.ApplicationStopping, http.RequestAborted);
        return TypedResults.ServerSentEvents(stream);
    }

    /// <summary>
    /// A slot of <paramref name="slots"/> for the caller's key, held until the response ends however it ends; null when
    /// taken, else the 429 (with Retry-After) to answer. Call it after authentication: the key then parses, and its id
    /// (not the secret) names the slots.
    /// </summary>
    static ProblemHttpResult? TakeSlot(HttpContext http, KeySlots slots, int limit, Func<int, ProblemHttpResult> refusal)
    {
        var slot = slots.TryAcquire(ApiKeys.Parse(ClusterApiCaller.ApiKeyOf(http.Request)).KeyId, limit);
        if (slot is null)
        {
            HttpApiExtensions.SetRetryAfter(http);
            return refusal(limit);
        }
        http.Response.RegisterForDispose(slot);
        return null;
    }

    static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Frame(
        HttpContext http, ClusterApiCaller api, IBlobStore blobs, string id, int index)
    {
        var status = await api.Status(http, id);
        if (status is null) return Problems.JobNotFound(id);
        if (index < 0 || index >= status.FramesTotal)
            return Problems.NotFound($"frame index {index} is outside job '{id}' (frames 0..{status.FramesTotal - 1})");
        var bytes = await blobs.GetAsync(WorkItem.FrameBlob(status.BlobPrefix, index), http.RequestAborted);
        if (bytes is null) return Problems.NotFound($"frame {index} of job '{id}' is not rendered yet ({status.FramesDone} of {status.FramesTotal} done)");
        return File(bytes, "image/png", $"{id}-{index:D6}.png");
    }

    static async Task<ValidationProblem> BadFrameIndex(HttpContext http, ClusterApiCaller api, string index)
    {
        await api.WhoAmI(http); // as for every route: an anonymous caller learns nothing
        return Problems.Invalid("index", $"must be a frame number (an integer from 0), got {JobSpecValidator.Echo(index)}");
    }

    static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Video(HttpContext http, ClusterApiCaller api, IBlobStore blobs,
        [FromKeyedServices(KeySlots.Downloads)] KeySlots slots, string id)
    {
        var status = await api.Status(http, id);
        if (status is null) return Problems.JobNotFound(id);
        if (status.VideoBlob is null)
        {
            var why = status.Spec?.Mp4 != true ? "its spec did not ask for one (mp4: true)"
                : status.State != JobState.Completed ? $"it is {status.State}; the video is assembled when every frame is rendered"
                : string.Join("; ", status.Warnings.DefaultIfEmpty("none was stored"));
            return Problems.NotFound($"job '{id}' has no video: {why}");
        }
        if (TakeSlot(http, slots, api.Options.MaxDownloadsPerKey, Problems.TooManyDownloads) is { } refused) return refused;
        // Streamed from the store, not read into memory: a video can be large and many may be downloaded at once.
        // Its SHA-256 (the ETag) comes from the manifest, which is written after the video.
        var sha256 = status.ManifestBlob is null ? null : await VideoSha256(blobs, status.ManifestBlob, http.RequestAborted);
        var stream = await blobs.OpenReadAsync(status.VideoBlob, http.RequestAborted);
        if (stream is null) return Problems.NotFound($"the video of job '{id}' is missing from blob storage");
        return TypedResults.Stream(stream, "video/mp4", $"{id}.mp4", enableRangeProcessing: true,
            entityTag: sha256 is null ? null : new EntityTagHeaderValue($"\"{sha256}\""));
    }

    static async Task<string?> VideoSha256(IBlobStore blobs, string manifestBlob, CancellationToken cancellationToken)
    {
        var manifest = await blobs.GetAsync(manifestBlob, cancellationToken);
        if (manifest is null) return null;
        using var document = System.Text.Json.JsonDocument.Parse(manifest);
        return document.RootElement.TryGetProperty("video", out var video) && video.ValueKind == System.Text.Json.JsonValueKind.Object &&
               video.TryGetProperty("sha256", out var sha) ? sha.GetString() : null;
    }

    static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Manifest(HttpContext http, ClusterApiCaller api, IBlobStore blobs,
        [FromKeyedServices(KeySlots.Downloads)] KeySlots slots, string id)
    {
        var status = await api.Status(http, id);
        if (status is null) return Problems.JobNotFound(id);
        if (status.ManifestBlob is null) return Problems.NotFound($"job '{id}' is {status.State}; its manifest is written when it completes");
        if (TakeSlot(http, slots, api.Options.MaxDownloadsPerKey, Problems.TooManyDownloads) is { } refused) return refused;
        var bytes = await blobs.GetAsync(status.ManifestBlob, http.RequestAborted);
        return bytes is null ? Problems.NotFound($"the manifest of job '{id}' is missing from blob storage") : File(bytes, "application/json", null);
    }

    /// <summary>Outputs never change once written (deterministic frames), so the SHA-256 is a strong ETag; ranges let players seek.</summary>
    static FileContentHttpResult File(byte[] bytes, string contentType, string? downloadName) =>
        TypedResults.File(bytes, contentType, downloadName, enableRangeProcessing: true,
            entityTag: new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\""));
}
