using System.Globalization;
using System.Text;

namespace ApiClient;

/// <summary>What went wrong, coarse enough for a program to act on (scmctl maps each to an exit code).</summary>
public enum ApiErrorKind
{
    /// <summary>No answer within the deadline: connection refused or reset, 502/503/504, or a call that timed out.</summary>
    Unavailable,
    /// <summary>401/403: missing, wrong, revoked key, or not an admin.</summary>
    Auth,
    /// <summary>404: no such job (or another tenant's), frame, tenant.</summary>
    NotFound,
    /// <summary>400/413/415: the request is invalid; <see cref="ScmApiException.Problem"/> names each field.</summary>
    Invalid,
    /// <summary>409: the job id is taken, the tenant exists, the job is finished, or not finished yet.</summary>
    Conflict,
    /// <summary>429: a tenant quota.</summary>
    Quota,
    /// <summary>A downloaded file does not match the manifest's SHA-256 (after a second download).</summary>
    Integrity,
    /// <summary>Anything else the server answered (500, an unexpected body).</summary>
    Protocol,
}

/// <summary>
/// One failed API call. <see cref="Exception.Message"/> is a single line naming the cause (for a CLI's stderr);
/// the problem document, when the server sent one, is in <see cref="Problem"/>.
/// </summary>
public sealed class ScmApiException(ApiErrorKind kind, string message, int? status = null, ProblemView? problem = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ApiErrorKind Kind { get; } = kind;
    public int? Status { get; } = status;
    public ProblemView? Problem { get; } = problem;
    /// <summary>Attempts made (more than one when the call was retried).</summary>
    public int Attempts { get; init; } = 1;

    public static ApiErrorKind KindOf(int status) => status switch
    {
        401 or 403 => ApiErrorKind.Auth,
        404 => ApiErrorKind.NotFound,
        400 or 405 or 413 or 415 or 422 => ApiErrorKind.Invalid,
        409 => ApiErrorKind.Conflict,
        429 => ApiErrorKind.Quota,
        408 or 502 or 503 or 504 => ApiErrorKind.Unavailable,
        _ => ApiErrorKind.Protocol,
    };

    /// <summary>"auth: RevokedKey: ..." / "frames: must be in [1, 10000], got 0; steps: ..." / "409 Conflict: ...".</summary>
    public static string Describe(int status, ProblemView? problem)
    {
        if (problem is null) return $"HTTP {status}";
        if (problem.AuthProblem is { } auth) return $"auth: {auth}: {problem.Detail}";
        if (problem.Errors is { Count: > 0 } errors)
            return string.Join("; ", errors.SelectMany(e => e.Value));
        if (problem.Quotas is { Length: > 0 } quotas) return string.Join("; ", quotas.Select(q => q.Detail));
        return problem.Detail ?? problem.Title ?? $"HTTP {status}";
    }

    /// <summary>
    /// A value from a server or a user, made safe for one terminal line: bounded, control and bidi characters escaped
    /// (a 10 KB job id or a forged newline must not come back as such).
    /// </summary>
    public static string Echo(string? value, int max = 64)
    {
        if (value is null) return "(null)";
        var s = new StringBuilder();
        foreach (var c in value.Length > max ? value[..max] : value)
        {
            if (char.IsControl(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format
                    or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.LineSeparator
                    or System.Globalization.UnicodeCategory.ParagraphSeparator)
                s.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else s.Append(c);
        }
        return value.Length > max ? $"'{s}'... ({value.Length} characters)" : $"'{s}'";
    }
}
