namespace Grains.Options;

/// <summary>How a silo joins the cluster and where it keeps grain state. Section "Cluster".</summary>
public sealed class ClusterHostOptions
{
    public const string Section = "Cluster";

    /// <summary>"Localhost" (default, single machine) or "Redis".</summary>
    public string Clustering { get; set; } = "Localhost";
    /// <summary>"Memory" (default) or "Redis": grain state (jobs, tenants) and reminders.</summary>
    public string Storage { get; set; } = "Memory";
    public string? RedisConnectionString { get; set; }
    public string ClusterId { get; set; } = "scm";
    public string ServiceId { get; set; } = "scm-generation";
    /// <summary>Unique per silo; workers are pinned to silos by this name. Default: machine name + silo port.</summary>
    public string? SiloName { get; set; }
    /// <summary>
    /// Redis clustering only: the IP address this silo advertises to the others and to clients (in Kubernetes the pod
    /// IP, from the downward API). Default: loopback, which is right only when every silo and client shares one host.
    /// </summary>
    public string? AdvertisedIp { get; set; }
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>Localhost clustering only: the first silo's port (other silos on the machine join it).</summary>
    public int PrimarySiloPort { get; set; } = 11111;
    /// <summary>
    /// Known to every silo of the cluster and to nothing else (in Kubernetes from the Secret): silos prove with it that
    /// a grain call comes from one of them (see Grains.Tenants.InternalCallToken). Required with Redis clustering;
    /// without it (localhost clustering) the silos of one process share a random one, so silos in separate processes
    /// on one machine need it too. At least 32 characters, e.g. `openssl rand -base64 32`.
    /// </summary>
    public string? InternalCallSecret { get; set; }
    /// <summary>Mutual TLS on the silo and gateway ports (section "Cluster:Tls").</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    public void Validate()
    {
        var errors = new List<string>();
        if (Clustering is not ("Localhost" or "Redis")) errors.Add($"Cluster:Clustering must be 'Localhost' or 'Redis', got '{Clustering}'");
        if (Storage is not ("Memory" or "Redis")) errors.Add($"Cluster:Storage must be 'Memory' or 'Redis', got '{Storage}'");
        if ((Clustering == "Redis" || Storage == "Redis") && string.IsNullOrWhiteSpace(RedisConnectionString))
            errors.Add("Cluster:RedisConnectionString is required when Clustering or Storage is 'Redis' (e.g. 127.0.0.1:6379)");
        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort), ("PrimarySiloPort", PrimarySiloPort) })
            if (port is < 1 or > 65535) errors.Add($"Cluster:{name} must be in [1, 65535], got {port}");
        if (AdvertisedIp is { } ip && !System.Net.IPAddress.TryParse(ip, out _))
            errors.Add($"Cluster:AdvertisedIp must be an IP address such as 10.0.0.5, got '{ip}'");
        if (Clustering == "Redis" && string.IsNullOrEmpty(InternalCallSecret))
            errors.Add("Cluster:InternalCallSecret is required with Redis clustering: the same secret on every silo, at least 32 characters (e.g. `openssl rand -base64 32`)");
        if (InternalCallSecret is { Length: > 0 and < 32 }) errors.Add($"Cluster:InternalCallSecret must have at least 32 characters, got {InternalCallSecret.Length}");
        errors.AddRange(Tls.Validate());
        if (SiloName is { } n && (n.Length == 0 || n.Contains('/'))) errors.Add("Cluster:SiloName must be non-empty and contain no '/'");
        if (errors.Count > 0) throw new ConfigurationException(errors);
    }
}

/// <summary>Configuration errors, all at once, each naming its key.</summary>
public sealed class ConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
