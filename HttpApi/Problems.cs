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
    public static ValidationProblem Invalid(IEnumerable<string> messages, string title = "The request is invalid") =>
        TypedResults.ValidationProblem(ByField(messages), title: title,
            detail: "Each entry of 'errors' names a field and what it must be.");

    public static ValidationProblem Invalid(string field, string message) => Invalid([$"{field}: {message}"]);

    /// <summary>
    /// 429: the tenant's quota is exhausted. Most quotas (running jobs, queued frames, the rolling 24 h budgets) free
    /// up as jobs finish, so "too many requests, retry later" is what a client should do; 409 is kept for the one
    /// real conflict (a job id that exists). The per-job caps (maxFramesPerJob, maxOutputSize) are reported the same
    /// way because they are tenant quotas, not spec validation: the same spec is valid for another tenant.
    /// </summary>
    public static ProblemHttpResult QuotaExceeded(IReadOnlyList<string> messages, TenantInfo? tenant) =>
        TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Quota exceeded",
            detail: string.Join("; ", messages),
            extensions: new Dictionary<string, object?>
            {
                ["quotas"] = messages.Select(m => new QuotaViolation(FieldOf(m), m)).ToArray(),
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

    /// <summary>
    /// An <see cref="ArgumentException"/> of the API grain ("tenant: 'x' does not exist", "weight: must be in ..."):
    /// 404 for an unknown tenant, 409 for one that exists already, else 400 naming the field.
    /// </summary>
    public static IResult FromArgument(string message)
    {
        if (message.EndsWith("does not exist", StringComparison.Ordinal)) return NotFound(message);
        if (message.EndsWith("already exists", StringComparison.Ordinal)) return Conflict(message);
        return Invalid(message.Split("; ", StringSplitOptions.RemoveEmptyEntries));
    }

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large",
            detail: $"the body may have at most {limit} bytes (HttpApi:MaxRequestBodyBytes)");

    public static ProblemHttpResult UnsupportedMediaType(string detail = "send the job spec as UTF-8 JSON with 'Content-Type: application/json'") =>
        TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: detail);

    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Cluster unavailable", detail: detail);

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

    /// <summary>"frames: must be ..." → "frames"; "quota maxRunningJobs: ..." → "maxRunningJobs".</summary>
    public static string FieldOf(string message)
    {
        int colon = message.IndexOf(':');
        var head = colon > 0 ? message[..colon] : "request";
        return head.StartsWith("quota ", StringComparison.Ordinal) ? head["quota ".Length..] : head;
    }

    static Dictionary<string, string[]> ByField(IEnumerable<string> messages) =>
        messages.GroupBy(FieldOf, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
}

/// <summary>One quota a submit would exceed, with the cluster's message (which states the current usage).</summary>
public sealed record QuotaViolation(string Quota, string Detail);
