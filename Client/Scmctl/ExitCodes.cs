using ApiClient;

namespace Scmctl;

/// <summary>
/// One exit code per cause, so scripts can tell "retry later" (7) from "fix the request" (2) from "fix the key" (4).
/// Documented in docs/SCMCTL.md ("Exit codes") and in `scmctl --help`.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Bad command line, unreadable key file, local file error.</summary>
    public const int Usage = 1;
    /// <summary>The API refused the request: invalid spec or argument (400/413/415), conflict (409: id taken, job finished).</summary>
    public const int Refused = 2;
    /// <summary>The job ended Failed or Cancelled (status, watch, submit --watch).</summary>
    public const int JobNotCompleted = 3;
    /// <summary>Missing, malformed, unknown, wrong or revoked key, or not an admin (401/403).</summary>
    public const int Auth = 4;
    public const int NotFound = 5;
    /// <summary>A tenant quota (429): retry when jobs have finished.</summary>
    public const int Quota = 6;
    /// <summary>No answer within --timeout (connection refused, silo lost, 503): retry later.</summary>
    public const int Unavailable = 7;
    /// <summary>fetch: a file did not match the manifest's SHA-256, twice.</summary>
    public const int Integrity = 8;
    /// <summary>An answer scmctl did not expect (500, a malformed body): a bug somewhere, see --verbose.</summary>
    public const int Unexpected = 9;
    public const int Interrupted = 130;

    public const string Summary = "0 ok, 1 usage, 2 refused, 3 job failed/cancelled, 4 auth, 5 not found, 6 quota, 7 unavailable, " +
                                  "8 integrity, 9 unexpected, 130 interrupted.";

    public static int For(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.Unavailable => Unavailable,
        ApiErrorKind.Auth => Auth,
        ApiErrorKind.NotFound => NotFound,
        ApiErrorKind.Invalid or ApiErrorKind.Conflict => Refused,
        ApiErrorKind.Quota => Quota,
        ApiErrorKind.Integrity => Integrity,
        _ => Unexpected,
    };
}
