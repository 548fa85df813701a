namespace ApiClient;

/// <summary>Where and how the client reaches the silos' HTTP API. scmctl fills it from --url/SCM_URL, the key sources and --timeout.</summary>
public sealed class ScmApiClientOptions
{
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>A silo's HTTP(S) endpoint, or a load balancer in front of several.</summary>
    public Uri BaseAddress { get; set; } = new(DefaultUrl);

    /// <summary>"scm_&lt;keyId&gt;_&lt;secret&gt;"; null sends none (the API answers 401 MissingKey).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Deadline of one call, retries included. The default outlasts a silo's own call deadline (HttpApi:CallTimeout,
    /// 10 s) plus the seconds Orleans needs to declare a killed silo dead and re-activate its grains elsewhere.
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound of one attempt: a silo that accepted the connection and then died must not eat the whole deadline.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long <see cref="ScmApiClient.WatchAsync"/> keeps reconnecting while no silo answers at all; a job
    /// outlives silo losses, so a watch should too, but not a cluster that is gone for good.
    /// </summary>
    public TimeSpan WatchOutageLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A watch stream that delivers nothing for this long, not even the server's keep-alive (HttpApi:EventKeepAlive,
    /// 15 s by default), is taken as broken and reconnected: a silo or network that vanished without closing the
    /// connection would otherwise hold <see cref="ScmApiClient.WatchAsync"/> forever.
    /// </summary>
    public TimeSpan WatchIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Parallel downloads of <see cref="ScmApiClient.FetchAsync"/>.</summary>
    public int DownloadParallelism { get; set; } = 4;

    /// <summary>Diagnostics (retries, reconnects, skipped files). scmctl passes stderr with --verbose, so stdout stays the command's output.</summary>
    public TextWriter? Log { get; set; }

    /// <summary>Tests and custom stacks (proxies, client certificates) plug their own handler in.</summary>
    public HttpMessageHandler? Handler { get; set; }

    public void Validate()
    {
        if (!BaseAddress.IsAbsoluteUri || BaseAddress.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--url: must be an absolute http:// or https:// URL, got {ScmApiException.Echo(BaseAddress.OriginalString)}");
        if (CallTimeout <= TimeSpan.Zero) throw new ArgumentException("--timeout: must be positive");
        if (AttemptTimeout <= TimeSpan.Zero) throw new ArgumentException("AttemptTimeout: must be positive");
        if (DownloadParallelism < 1) throw new ArgumentException("DownloadParallelism: must be at least 1");
        if (WatchIdleTimeout <= TimeSpan.Zero) throw new ArgumentException("WatchIdleTimeout: must be positive");
    }
}
