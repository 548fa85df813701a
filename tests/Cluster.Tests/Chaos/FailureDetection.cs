namespace Cluster.Tests.Chaos;

/// <summary>
/// The membership settings (Orleans' ClusterMembershipOptions) the chaos silos run with, chosen by
/// SCM_CHAOS_FAILURE_DETECTION: "test" (the default: 1 s probes, 2 misses, 1 vote, so CI runs stay short), "defaults"
/// (Orleans' own) or "k8s" (whatever infra/k8s/configmap.yaml sets, read from the file so that the measured figures
/// follow the manifest). Running a chaos test under each is how docs/RELIABILITY.md measures detection and recovery
/// for the settings a deployment would use, not only for the tests' fast ones.
/// </summary>
public static class FailureDetection
{
    public const string Variable = "SCM_CHAOS_FAILURE_DETECTION";
    const string Section = "Cluster:Membership:";

    /// <summary>The profile of this run; unknown names fail loudly rather than silently measuring the test profile.</summary>
    public static string Profile { get; } = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } name ? name : "test";

    public static IReadOnlyDictionary<string, string> Settings() => Profile switch
    {
        "test" => new Dictionary<string, string>
        {
            [Section + "ProbeTimeout"] = "00:00:01", [Section + "NumMissedProbesLimit"] = "2", [Section + "NumVotesForDeathDeclaration"] = "1",
        },
        "defaults" => new Dictionary<string, string>(),
        "k8s" => FromConfigMap(),
        _ => throw new InvalidOperationException($"{Variable}: expected test, defaults or k8s, got '{Profile}'"),
    };

    /// <summary>Profile name and settings in one line, for the test output and the figures log.</summary>
    public static string Describe() =>
        Settings() is { Count: > 0 } settings
            ? $"{Profile} ({string.Join(", ", settings.Select(s => $"{s.Key[Section.Length..]}={s.Value}"))})"
            : $"{Profile} (Orleans' ClusterMembershipOptions defaults)";

    static Dictionary<string, string> FromConfigMap()
    {
        const string prefix = "SCM_Cluster__Membership__";
        var data = DeploymentManifests.KubernetesObjects()
            .Single(o => o.Doc.Text("kind") == "ConfigMap" && o.Doc.Text("metadata", "name") == "scm-silo-config").Doc.Labels("data");
        var settings = data.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => Section + kv.Key[prefix.Length..], kv => kv.Value);
        if (settings.Count == 0) throw new InvalidOperationException("infra/k8s/configmap.yaml sets no SCM_Cluster__Membership__ variable");
        return settings;
    }
}
