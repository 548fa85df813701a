using System.Security.Cryptography.X509Certificates;
using Grains.Options;
using Orleans.Connections.Security;

namespace Grains.Hosting;

/// <summary>
/// Mutual TLS for Orleans' own connections (<see cref="ClusterTlsOptions"/>). With it on, a peer without a certificate
/// of the cluster's CA cannot even finish the handshake on the silo or gateway port, so the gateway never parses an
/// outsider's message; the internal-call check (Grains.Tenants.ClientCallFilter) still applies to whoever connects.
/// </summary>
public static class ClusterTls
{
    public static ISiloBuilder UseConfiguredTls(this ISiloBuilder silo, ClusterTlsOptions options)
    {
        if (!options.Enabled) return silo;
        var (certificate, ca) = Load(options);
        return silo.UseTls(certificate, tls => Configure(tls, ca));
    }

    /// <summary>For a trusted Orleans client (an operator tool inside the cluster): the same certificates, the same checks.</summary>
    public static IClientBuilder UseConfiguredTls(this IClientBuilder client, ClusterTlsOptions options)
    {
        if (!options.Enabled) return client;
        var (certificate, ca) = Load(options);
        return client.UseTls(certificate, tls => Configure(tls, ca));
    }

    static (X509Certificate2 Certificate, X509Certificate2 Ca) Load(ClusterTlsOptions options) =>
        (X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.KeyPath!), X509CertificateLoader.LoadCertificateFromFile(options.CaPath!));

    static void Configure(TlsOptions tls, X509Certificate2 ca)
    {
        // Both sides must show a certificate: silo to silo, and client to gateway.
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // The system's trust store and host names do not apply: what makes a peer a member is a certificate chained to
        // the cluster's CA (pods are dialled by IP). So the platform's verdict (policy errors) is replaced by this one.
        tls.RemoteCertificateValidation = (certificate, chain, _) => IssuedBy(certificate, chain, ca);
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="ca"/> alone (not to any system root).</summary>
    public static bool IssuedBy(X509Certificate2 certificate, X509Chain? presented, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Intermediates the peer sent along may complete the chain; only the CA is trusted.
        if (presented is not null)
            foreach (var element in presented.ChainElements)
                if (!element.Certificate.Equals(certificate)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(certificate);
    }
}
