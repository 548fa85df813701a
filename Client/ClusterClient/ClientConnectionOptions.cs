namespace ClusterClient;

/// <summary>
/// How an Orleans client inside the trust boundary (scm-tools' demo and benches, tests) reaches the cluster; its host
/// program fills it in code, no configuration section is bound. scmctl does not use it: it speaks HTTP only.
/// </summary>
public sealed class ClientConnectionOptions
{
    /// <summary>"Localhost" (gateway on this machine) or "Redis" (discover gateways through Redis membership).</summary>
    public string Clustering { get; set; } = "Localhost";
    public string? RedisConnectionString { get; set; }
    public int GatewayPort { get; set; } = 30000;
    public string ClusterId { get; set; } = "scm";
    public string ServiceId { get; set; } = "scm-generation";
    /// <summary>Deadline of every call; a call into a dead silo would otherwise hang for Orleans' 30 s response timeout.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public void Validate()
    {
        if (Clustering is not ("Localhost" or "Redis")) throw new ArgumentException($"Client:Clustering must be 'Localhost' or 'Redis', got '{Clustering}'.");
        if (Clustering == "Redis" && string.IsNullOrWhiteSpace(RedisConnectionString))
            throw new ArgumentException("Client:RedisConnectionString is required with Redis clustering (e.g. 127.0.0.1:6379).");
        if (GatewayPort is < 1 or > 65535) throw new ArgumentException($"Client:GatewayPort must be in [1, 65535], got {GatewayPort}.");
        if (string.IsNullOrWhiteSpace(ClusterId)) throw new ArgumentException("Client:ClusterId must not be empty (the silos' Cluster:ClusterId).");
        if (string.IsNullOrWhiteSpace(ServiceId)) throw new ArgumentException("Client:ServiceId must not be empty (the silos' Cluster:ServiceId).");
        if (CallTimeout <= TimeSpan.Zero) throw new ArgumentException("Client:CallTimeout must be positive.");
    }
}
