using Grains.Interfaces;

namespace Silo;

/// <summary>
/// The silo's HTTP endpoint (section "Http"): health probes always (so it is always on), and whatever else is switched on
/// (metrics, the HTTP API, the dashboard). Bound to every interface so that probes reach it inside a pod.
/// </summary>
public sealed class SiloHttpOptions : IValidatedOptions
{
    public const string Section = "Http";

    /// <summary>TCP port on all interfaces (0 = any free port, logged at start).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>
    /// A PFX/PKCS#12 (or PEM) certificate file: with one, the port speaks HTTPS only, so API keys never cross the
    /// network in clear text. Without one it is plain HTTP (behind a TLS-terminating ingress, or on a trusted network).
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of <see cref="CertificatePath"/> (env SCM_Http__CertificatePassword, e.g. from a Secret).</summary>
    public string? CertificatePassword { get; set; }

    public bool Https => !string.IsNullOrEmpty(CertificatePath);

    public IEnumerable<string> Problems()
    {
        if (Port is < 0 or > 65535) yield return $"{Section}:Port must be in [0, 65535] (got {Port}).";
        if (Https && !File.Exists(CertificatePath)) yield return $"{Section}:CertificatePath: no file '{CertificatePath}'.";
    }
}
