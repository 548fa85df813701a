namespace BlobStorage;

/// <summary>
/// Retry settings for remote blob stores. Two layers retry: the Azure SDK retries each HTTP call a few times quickly
/// (<see cref="SdkMaxRetries"/>), and an outer exponential backoff with jitter keeps trying whole operations until
/// <see cref="RetryBudget"/> is spent. The SDK layer is kept small so the two don't multiply into minutes of retries.
/// </summary>
public sealed class BlobRetryOptions
{
    /// <summary>
    /// How long after an operation started a failure may still be retried. The retry scheduled just before the budget
    /// runs out still happens, so an operation can take up to budget + <see cref="MaxDelay"/> + one attempt.
    /// The default rides out a storage endpoint that is down for 10-20 seconds (a restart, a failover).
    /// </summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound on outer retries, whatever the budget.</summary>
    public int MaxRetryAttempts { get; set; } = 20;

    /// <summary>First outer backoff delay; it doubles per attempt (with jitter) up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of one HTTP call inside the Azure SDK (short fixed backoff of 0.2 s doubling up to 1 s).</summary>
    public int SdkMaxRetries { get; set; } = 2;

    /// <summary>
    /// Limit for one HTTP call (the Azure SDK's network timeout). A hung endpoint costs this much per try, so it bounds
    /// how late a retry can notice. Large enough for multi-megabyte videos on a slow link.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal IEnumerable<string> FindProblems(string prefix)
    {
        if (RetryBudget < TimeSpan.Zero)
        {
            yield return $"{prefix}RetryBudget must not be negative (was {RetryBudget}).";
        }

        if (MaxRetryAttempts < 0)
        {
            yield return $"{prefix}MaxRetryAttempts must not be negative (was {MaxRetryAttempts}).";
        }

        if (BaseDelay <= TimeSpan.Zero)
        {
            yield return $"{prefix}BaseDelay must be positive (was {BaseDelay}).";
        }

        if (MaxDelay < BaseDelay)
        {
            yield return $"{prefix}MaxDelay must be at least BaseDelay (was {MaxDelay}, BaseDelay {BaseDelay}).";
        }

        if (SdkMaxRetries is < 0 or > 5)
        {
            yield return $"{prefix}SdkMaxRetries must be between 0 and 5 (was {SdkMaxRetries}); more retries belong in RetryBudget.";
        }

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            yield return $"{prefix}AttemptTimeout must be positive (was {AttemptTimeout}).";
        }
    }
}
