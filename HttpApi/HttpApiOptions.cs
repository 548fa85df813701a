using Grains.Interfaces;

namespace HttpApi;

/// <summary>
/// The silo's HTTP API (section "HttpApi"). On by default: it is the one edge through which tenants reach the cluster
/// (scmctl and the .NET client speak HTTP to it), so a silo without it would serve nobody. Every request is
/// authenticated by an API key; HTTPS when the silo has a certificate (Http:Certificate:*).
/// </summary>
public sealed class HttpApiOptions : IValidatedOptions
{
    public const string Section = "HttpApi";

    public bool Enabled { get; set; } = true;

    /// <summary>Serve the web console at /console/ (and redirect / to it); it reaches data only through the /v1 routes.</summary>
    public bool Console { get; set; } = true;

    /// <summary>Largest accepted request body (a job spec is well under 1 KiB; 64 KiB leaves room for 64 keyframes).</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Deadline of each call into the cluster; a stuck call becomes 503 instead of holding the request.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an event stream reads the job's status.</summary>
    public TimeSpan EventPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>An unchanged status is re-sent this often so proxies keep the stream open and a gone client is noticed.</summary>
    public TimeSpan EventKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long an event stream rides through cluster errors (silo lost, no answer) before it sends a final
    /// "unavailable" event and closes; the client then reconnects with Last-Event-ID, possibly to another silo.
    /// </summary>
    public TimeSpan EventOutageLimit { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Most event streams one API key may hold open on this silo (each polls the cluster while open).</summary>
    public int MaxEventStreamsPerKey { get; set; } = 32;

    /// <summary>Most video and manifest downloads one API key may have in flight on this silo (each holds a blob stream or the manifest until read).</summary>
    public int MaxDownloadsPerKey { get; set; } = 8;

    /// <summary>Sent as Retry-After with every 503 and as the reconnection time of a cut event stream.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Every problem, each naming its key (none when the API is off).</summary>
    public IEnumerable<string> Problems()
    {
        if (!Enabled) yield break;
        if (MaxRequestBodyBytes is < 1024 or > 16 * 1024 * 1024)
            yield return $"{Section}:MaxRequestBodyBytes must be in [1024, 16777216] (got {MaxRequestBodyBytes}).";
        if (CallTimeout <= TimeSpan.Zero) yield return $"{Section}:CallTimeout must be positive (got {CallTimeout}).";
        if (EventPollInterval < TimeSpan.FromMilliseconds(10))
            yield return $"{Section}:EventPollInterval must be at least 00:00:00.010 (got {EventPollInterval}).";
        if (EventKeepAlive < EventPollInterval)
            yield return $"{Section}:EventKeepAlive must be at least EventPollInterval (got {EventKeepAlive}).";
        if (EventOutageLimit < TimeSpan.Zero) yield return $"{Section}:EventOutageLimit must not be negative (got {EventOutageLimit}).";
        if (MaxEventStreamsPerKey is < 1 or > 10_000)
            yield return $"{Section}:MaxEventStreamsPerKey must be in [1, 10000] (got {MaxEventStreamsPerKey}).";
        if (MaxDownloadsPerKey is < 1 or > 10_000)
            yield return $"{Section}:MaxDownloadsPerKey must be in [1, 10000] (got {MaxDownloadsPerKey}).";
        if (RetryAfter < TimeSpan.FromSeconds(1) || RetryAfter > TimeSpan.FromMinutes(10))
            yield return $"{Section}:RetryAfter must be in [00:00:01, 00:10:00] (got {RetryAfter}).";
    }
}
