namespace Silo;

/// <summary>
/// The silo's HTTP endpoint (section "Http"): health probes always (so it is always on), and whatever else is switched on
/// (metrics, the HTTP API, the dashboard). Bound to every interface so that probes reach it inside a pod.
/// </summary>
public sealed class SiloHttpOptions
{
    public const string Section = "Http";

    /// <summary>TCP port on all interfaces (0 = any free port, logged at start).</summary>
    public int Port { get; set; } = 8080;

    public IEnumerable<string> Validate()
    {
        if (Port is < 0 or > 65535) yield return $"{Section}:Port must be in [0, 65535] (got {Port}).";
    }
}
