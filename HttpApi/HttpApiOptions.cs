namespace HttpApi;

/// <summary>
/// The silo's HTTP API (section "HttpApi"). Off by default: a silo exposes only health (and metrics) unless an
/// operator opts in, because the API accepts work from the network on the silo's HTTP port.
/// </summary>
public sealed class HttpApiOptions
{
    public const string Section = "HttpApi";

    public bool Enabled { get; set; }

    /// <summary>Largest accepted request body (a job spec is well under 1 KiB; 64 KiB leaves room for 64 keyframes).</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Deadline of each call into the cluster; a stuck call becomes 503 instead of holding the request.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an event stream reads the job's status.</summary>
    public TimeSpan EventPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>An unchanged status is re-sent this often so proxies keep the stream open and a gone client is noticed.</summary>
    public TimeSpan EventKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<string> Validate()
    {
        if (MaxRequestBodyBytes is < 1024 or > 16 * 1024 * 1024)
            yield return $"{Section}:MaxRequestBodyBytes must be in [1024, 16777216] (got {MaxRequestBodyBytes}).";
        if (CallTimeout <= TimeSpan.Zero) yield return $"{Section}:CallTimeout must be positive (got {CallTimeout}).";
        if (EventPollInterval < TimeSpan.FromMilliseconds(10))
            yield return $"{Section}:EventPollInterval must be at least 00:00:00.010 (got {EventPollInterval}).";
        if (EventKeepAlive < EventPollInterval)
            yield return $"{Section}:EventKeepAlive must be at least EventPollInterval (got {EventKeepAlive}).";
    }
}
