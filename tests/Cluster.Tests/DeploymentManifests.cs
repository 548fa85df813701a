using System.Reflection;
using System.Text.Json;
using BlobStorage;
using Grains.Interfaces;
using Grains.Options;
using Microsoft.Extensions.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cluster.Tests;

/// <summary>Reads the deployment files (infra/k8s, infra/compose.yaml, infra/Dockerfile) and the silo's configuration.</summary>
public static class DeploymentManifests
{
    public static string RepoRoot { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (Cluster.sln) not found above " + AppContext.BaseDirectory);
    }

    public static string K8sDirectory => Path.Combine(RepoRoot, "infra", "k8s");
    public static string ComposeFile => Path.Combine(RepoRoot, "infra", "compose.yaml");

    /// <summary>Every YAML document of a file, with merge keys (&lt;&lt;: *anchor) resolved as compose does.</summary>
    public static List<YamlMappingNode> Documents(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    public static IEnumerable<(string File, YamlMappingNode Doc)> KubernetesObjects() =>
        Directory.GetFiles(K8sDirectory, "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => Documents(f).Select(d => (Path.GetFileName(f), d)));

    public static YamlNode? At(this YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out node)) return null;
        }
        return node;
    }

    public static string? Text(this YamlNode? node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Items(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlSequenceNode seq ? seq.Children : [];

    public static Dictionary<string, string> Labels(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlMappingNode map
            ? map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "")
            : [];

    /// <summary>Silo/appsettings.json flattened to configuration keys ("Http:Port" → "8080").</summary>
    public static Dictionary<string, string?> AppSettings()
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        void Walk(JsonElement e, string prefix)
        {
            if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject()) Walk(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}:{p.Name}");
            else if (e.ValueKind == JsonValueKind.Array)
                for (int i = 0; i < e.GetArrayLength(); i++) Walk(e[i], $"{prefix}:{i}");
            else result[prefix] = e.ValueKind == JsonValueKind.Null ? null : e.ToString();
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot, "Silo", "appsettings.json")));
        Walk(doc.RootElement, "");
        return result;
    }

    /// <summary>The options class each configuration section binds to on the silo.</summary>
    static readonly Dictionary<string, Type> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        [ClusterHostOptions.Section] = typeof(ClusterHostOptions),
        [DeviceOptions.Section] = typeof(DeviceOptions),
        [SchedulerOptions.Section] = typeof(SchedulerOptions),
        [ModelRegistryOptions.Section] = typeof(ModelRegistryOptions),
        [TenantOptions.Section] = typeof(TenantOptions),
        ["Limits"] = typeof(JobLimits),
        ["Blob"] = typeof(BlobStorageOptions),
        [Silo.SiloHttpOptions.Section] = typeof(Silo.SiloHttpOptions),
        ["Host"] = typeof(HostOptions),
    };

    /// <summary>
    /// "SCM_Cluster__AdvertisedIp" → "Cluster:AdvertisedIp" when that key is in appsettings.json or is a settable
    /// property path of the section's options class (dictionary entries such as Models:Registry:&lt;id&gt; included).
    /// </summary>
    public static string? ConfigurationKey(string variable, IReadOnlyDictionary<string, string?> appSettings)
    {
        if (!variable.StartsWith("SCM_", StringComparison.Ordinal)) return null;
        var key = variable["SCM_".Length..].Replace("__", ":");
        if (appSettings.ContainsKey(key)) return key;
        var parts = key.Split(':');
        // Cluster:Membership:* is passed to Orleans' ClusterMembershipOptions as is (GenerationClusterHosting).
        if (parts is ["Cluster", "Membership", var option])
            return typeof(Orleans.Configuration.ClusterMembershipOptions).GetProperty(option, BindingFlags.Public | BindingFlags.Instance)?.SetMethod is null ? null : key;
        if (parts.Length < 2 || !Sections.TryGetValue(parts[0], out var type)) return null;
        foreach (var part in parts[1..])
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                type = type.GetGenericArguments()[1];
                continue;
            }
            var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || property.SetMethod is null) return null;
            type = property.PropertyType;
        }
        return key;
    }

    /// <summary>Environment variable names set by the Dockerfile's ENV lines.</summary>
    public static IEnumerable<string> DockerfileVariables(string dockerfile) =>
        System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(dockerfile), @"\b(SCM_[A-Za-z0-9_]+)=").Select(m => m.Groups[1].Value);
}
