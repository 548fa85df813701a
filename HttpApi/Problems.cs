using Grains.Interfaces;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace HttpApi;

/// <summary>
/// RFC 7807 problem responses. Every 400 is a validation problem whose "errors" map a field to the messages of the
/// cluster's validator ("frames: must be in [1, 10000], got 0"), so HTTP and Orleans clients see the same text.
/// </summary>
public static class Problems
{
    const string InvalidTitle = "The request is invalid";

    public static ValidationProblem Invalid(IEnumerable<FieldError> errors, string title = InvalidTitle) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            title: title, detail: "Each entry of 'errors' names a field and what it must be.");

    public static ValidationProblem Invalid(string field, string message) => Invalid([FieldError.Of(field, message)]);

    /// <summary>
    /// The answer to a refusal of the cluster, by its kind alone: 400 (a validation problem), 429 (with the quotas and,
    /// when given, the tenant's usage and limits), 409 or 404 (the messages as the detail).
    /// </summary>
    public static IResult Rejected(Rejection rejection, TenantInfo? tenant = null, string invalidTitle = InvalidTitle) => rejection.Kind switch
    {
        RejectionKind.Invalid => Invalid(rejection.Errors, invalidTitle),
        RejectionKind.QuotaExceeded => QuotaExceeded(rejection.Errors, tenant),
        RejectionKind.Conflict => Conflict(rejection.ToString()),
        RejectionKind.NotFound => NotFound(rejection.ToString()),
        _ => throw new ArgumentOutOfRangeException(nameof(rejection), rejection.Kind, "a rejection kind without an HTTP status"),
    };

    /// <summary>
    /// 429: the tenant's quota is exhausted. Most quotas (running jobs, queued frames, the rolling 24 h budgets) free
    /// up as jobs finish, so "too many requests, retry later" is what a client should do; 409 is kept for the one
    /// real conflict (a job id that exists). The per-job caps (maxFramesPerJob, maxOutputSize) are reported the same
    /// way because they are tenant quotas, not spec validation: the same spec is valid for another tenant.
    /// </summary>
    public static ProblemHttpResult QuotaExceeded(IReadOnlyList<FieldError> quotas, TenantInfo? tenant) =>
        TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Quota exceeded",
            detail: string.Join("; ", quotas.Select(q => q.Message)),
            extensions: new Dictionary<string, object?>
            {
                ["quotas"] = quotas.Select(q => new QuotaViolation(q.Field, q.Message)).ToArray(),
                ["usage"] = tenant?.Usage,
                ["limits"] = tenant?.Quota,
            });

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    /// <summary>
    /// Also for another tenant's job: the answer must not reveal that it exists. The id comes from the path, so it is
    /// echoed bounded and escaped (a 4 KB id or a bidi override must not come back as such).
    /// </summary>
    public static ProblemHttpResult JobNotFound(string jobId) =>
        NotFound($"no job {JobSpecValidator.Echo(jobId)}");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult TooManyStreams(int limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many event streams",
            detail: $"this API key holds {limit} open event streams on this silo (HttpApi:MaxEventStreamsPerKey); close one, or poll GET /v1/jobs/{{id}}");

    public static ProblemHttpResult TooManyDownloads(int limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many downloads",
            detail: $"this API key has {limit} video or manifest downloads in flight on this silo (HttpApi:MaxDownloadsPerKey); retry when one has finished");

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large",
            detail: $"the body may have at most {limit} bytes (HttpApi:MaxRequestBodyBytes)");

    public static ProblemHttpResult UnsupportedMediaType(string detail = "send the job spec as UTF-8 JSON with 'Content-Type: application/json'") =>
        TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: detail);

    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Cluster unavailable", detail: detail);

    public static ProblemHttpResult Internal(string traceId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Internal error",
            detail: $"the silo failed to answer this request; its log has the error under request {traceId}");

    public static ProblemHttpResult StorageUnavailable(string cause) =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Storage unavailable",
            detail: $"the cluster's storage did not answer; retry after the Retry-After delay ({cause})");

    /// <summary>401 for a key that does not authenticate, 403 for one that does but may not do this.</summary>
    public static ProblemHttpResult Auth(ApiAuthException e)
    {
        bool forbidden = e.Problem is AuthProblem.NotAdmin or AuthProblem.NotPermitted;
        var detail = e.Problem == AuthProblem.MissingKey
            ? $"no API key given: send 'Authorization: Bearer scm_...' or '{ClusterApiCaller.ApiKeyHeader}: scm_...'"
            : e.Detail;
        return TypedResults.Problem(statusCode: forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized,
            title: forbidden ? "Forbidden" : "Unauthorized", detail: detail,
            extensions: new Dictionary<string, object?> { ["authProblem"] = e.Problem.ToString() });
    }
}

/// <summary>One quota a submit would exceed, with the cluster's message (which states the current usage).</summary>
public sealed record QuotaViolation(string Quota, string Detail);
