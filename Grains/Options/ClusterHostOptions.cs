using Grains.Interfaces;

namespace Grains.Options;

/// <summary>How silos find each other: on one machine, or through Redis membership.</summary>
public enum ClusteringMode { Localhost, Redis }

/// <summary>Where grain state (jobs, tenants) and reminders live: in the silo's memory, or in Redis.</summary>
public enum StateStorage { Memory, Redis }

/// <summary>How a silo joins the cluster and where it keeps grain state. Section "Cluster".</summary>
public sealed class ClusterHostOptions : IValidatedOptions
{
    public const string Section = "Cluster";

    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;
    public StateStorage Storage { get; set; } = StateStorage.Memory;
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

    public IEnumerable<string> Problems()
    {
        if ((Clustering == ClusteringMode.Redis || Storage == StateStorage.Redis) && string.IsNullOrWhiteSpace(RedisConnectionString))
            yield return "Cluster:RedisConnectionString is required when Clustering or Storage is 'Redis' (e.g. 127.0.0.1:6379)";
        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort), ("PrimarySiloPort", PrimarySiloPort) })
            if (port is < 1 or > 65535) yield return $"Cluster:{name} must be in [1, 65535], got {port}";
        if (AdvertisedIp is { } ip && !System.Net.IPAddress.TryParse(ip, out _))
            yield return $"Cluster:AdvertisedIp must be an IP address such as 10.0.0.5, got '{ip}'";
        if (Clustering == ClusteringMode.Redis && string.IsNullOrEmpty(InternalCallSecret))
            yield return "Cluster:InternalCallSecret is required with Redis clustering: the same secret on every silo, at least 32 characters (e.g. `openssl rand -base64 32`)";
        if (InternalCallSecret is { Length: > 0 and < 32 }) yield return $"Cluster:InternalCallSecret must have at least 32 characters, got {InternalCallSecret.Length}";
        foreach (var problem in Tls.Problems()) yield return problem;
        if (SiloName is { } n && (n.Length == 0 || n.Contains('/'))) yield return "Cluster:SiloName must be non-empty and contain no '/'";
    }
}
