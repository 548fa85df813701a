namespace Grains.Options;

/// <summary>
/// Section "Cluster:Tls": mutual TLS on the silo-to-silo and gateway ports (Microsoft.Orleans.Connections.Security).
/// Every silo presents <see cref="CertificatePath"/> and accepts a peer, silo or client, only if the peer presents a
/// certificate issued by <see cref="CaPath"/>. Host names are not checked: silos dial each other by pod IP, so the
/// cluster's own CA is what identifies a member. In Kubernetes the three files come from a Secret (infra/k8s).
/// </summary>
public sealed class ClusterTlsOptions
{
    public bool Enabled { get; set; }
    /// <summary>PEM certificate of this silo (e.g. /etc/scm/tls/tls.crt).</summary>
    public string? CertificatePath { get; set; }
    /// <summary>PEM private key of <see cref="CertificatePath"/> (e.g. /etc/scm/tls/tls.key).</summary>
    public string? KeyPath { get; set; }
    /// <summary>PEM certificate of the CA that issues the cluster's certificates (e.g. /etc/scm/tls/ca.crt).</summary>
    public string? CaPath { get; set; }

    public IEnumerable<string> Problems()
    {
        if (!Enabled) yield break;
        foreach (var (name, path) in new[] { ("CertificatePath", CertificatePath), ("KeyPath", KeyPath), ("CaPath", CaPath) })
        {
            if (string.IsNullOrWhiteSpace(path)) yield return $"Cluster:Tls:{name} is required when Cluster:Tls:Enabled is true (a PEM file)";
            else if (!File.Exists(path)) yield return $"Cluster:Tls:{name}: no file '{path}'";
        }
    }
}
