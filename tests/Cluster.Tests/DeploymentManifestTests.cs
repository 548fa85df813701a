using System.Globalization;
using YamlDotNet.RepresentationModel;
using static Cluster.Tests.DeploymentManifests;

namespace Cluster.Tests;

/// <summary>
/// Static checks of the deployment files: nothing here starts a container or talks to a cluster (none is available
/// where the tests run). They pin what must agree with the silo's code and configuration.
/// </summary>
public class DeploymentManifestTests
{
    static readonly Dictionary<string, string?> Settings = AppSettings();

    static YamlMappingNode Single(string kind, string name) =>
        KubernetesObjects().Single(o => o.Doc.Text("kind") == kind && o.Doc.Text("metadata", "name") == name).Doc;

    static YamlMappingNode SiloDeployment => Single("Deployment", "scm-silo");
    static YamlNode SiloContainer => SiloDeployment.Items("spec", "template", "spec", "containers").Single(c => c.Text("name") == "silo");
    static Dictionary<string, string> ConfigMap => Single("ConfigMap", "scm-silo-config").Labels("data");

    /// <summary>A setting as the silo pods see it: the ConfigMap's SCM_ variable, else appsettings.json.</summary>
    static string? Effective(string key) =>
        ConfigMap.TryGetValue("SCM_" + key.Replace(":", "__"), out var value) ? value : Settings.GetValueOrDefault(key);

    [Fact]
    public void Every_kubernetes_object_parses_and_has_the_fields_its_kind_requires()
    {
        var objects = KubernetesObjects().ToList();
        Assert.NotEmpty(objects);
        foreach (var (file, doc) in objects)
        {
            var kind = doc.Text("kind");
            var what = $"{file}: {kind} {doc.Text("metadata", "name")}";
            Assert.False(string.IsNullOrEmpty(doc.Text("apiVersion")), what + ": apiVersion");
            Assert.False(string.IsNullOrEmpty(kind), what + ": kind");
            if (kind == "Kustomization")
            {
                foreach (var resource in doc.Items("resources"))
                    Assert.True(File.Exists(Path.Combine(K8sDirectory, ((YamlScalarNode)resource).Value!)), $"{what}: missing {resource}");
                continue;
            }
            Assert.False(string.IsNullOrEmpty(doc.Text("metadata", "name")), what + ": metadata.name");
            Assert.Null(doc.At("metadata", "namespace")); // namespace-agnostic: `kubectl apply -n`
            switch (kind)
            {
                case "Deployment" or "StatefulSet":
                    var selector = doc.Labels("spec", "selector", "matchLabels");
                    var podLabels = doc.Labels("spec", "template", "metadata", "labels");
                    Assert.NotEmpty(selector);
                    Assert.All(selector, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
                    var containers = doc.Items("spec", "template", "spec", "containers").ToList();
                    Assert.NotEmpty(containers);
                    Assert.All(containers, c => Assert.False(string.IsNullOrEmpty(c.Text("image")), what + ": image"));
                    Assert.All(containers, c => Assert.NotNull(c.At("readinessProbe")));
                    Assert.All(containers, c => Assert.NotNull(c.At("livenessProbe")));
                    if (kind == "StatefulSet") Assert.False(string.IsNullOrEmpty(doc.Text("spec", "serviceName")), what + ": serviceName");
                    break;
                case "Service":
                    Assert.NotEmpty(doc.Labels("spec", "selector"));
                    Assert.NotEmpty(doc.Items("spec", "ports"));
                    break;
                case "PodDisruptionBudget":
                    Assert.NotEmpty(doc.Labels("spec", "selector", "matchLabels"));
                    Assert.True(doc.At("spec", "minAvailable") is not null ^ doc.At("spec", "maxUnavailable") is not null, what + ": one of minAvailable / maxUnavailable");
                    break;
                case "ConfigMap":
                    Assert.NotEmpty(doc.Labels("data"));
                    break;
                case "Secret":
                    Assert.NotEmpty(doc.Labels("stringData"));
                    break;
                case "NetworkPolicy":
                    Assert.NotEmpty(doc.Labels("spec", "podSelector", "matchLabels"));
                    Assert.Contains("Ingress", doc.Items("spec", "policyTypes").Select(t => t.Text()));
                    Assert.NotEmpty(doc.Items("spec", "ingress"));
                    break;
                default:
                    Assert.Fail($"{what}: no checks for kind {kind}");
                    break;
            }
        }
    }

    [Fact]
    public void Silo_probes_use_the_paths_the_silo_serves_on_its_configured_http_port()
    {
        var container = SiloContainer;
        var ports = container.Items("ports").ToDictionary(p => p.Text("name")!, p => int.Parse(p.Text("containerPort")!, CultureInfo.InvariantCulture));
        int Port(YamlNode? probe)
        {
            var port = probe.Text("httpGet", "port")!;
            return int.TryParse(port, out var n) ? n : ports[port];
        }
        int httpPort = int.Parse(Effective("Http:Port")!, CultureInfo.InvariantCulture);
        Assert.Equal("8080", Settings["Http:Port"]);
        Assert.Equal(httpPort, ports["http"]);
        Assert.Equal("/healthz", container.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("/readyz", container.Text("readinessProbe", "httpGet", "path"));
        Assert.Equal(httpPort, Port(container.At("livenessProbe")));
        Assert.Equal(httpPort, Port(container.At("readinessProbe")));
        if (container.At("startupProbe") is { } startup)
        {
            Assert.Equal("/healthz", startup.Text("httpGet", "path"));
            Assert.Equal(httpPort, Port(startup));
        }
        // The paths are the ones the silo maps (Silo/HealthEndpoints.cs).
        var endpoints = File.ReadAllText(Path.Combine(RepoRoot, "Silo", "HealthEndpoints.cs"));
        Assert.Contains("\"/healthz\"", endpoints);
        Assert.Contains("\"/readyz\"", endpoints);
        Assert.Equal(int.Parse(Effective("Cluster:SiloPort")!, CultureInfo.InvariantCulture), ports["silo"]);
        Assert.Equal(int.Parse(Effective("Cluster:GatewayPort")!, CultureInfo.InvariantCulture), ports["gateway"]);
    }

    [Fact]
    public void Silos_take_a_gpu_run_one_per_gpu_node_and_advertise_their_pod_ip()
    {
        var pod = SiloDeployment.At("spec", "template", "spec");
        var container = SiloContainer;
        Assert.True(int.Parse(container.Text("resources", "limits", "nvidia.com/gpu")!, CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(container.Text("resources", "limits", "nvidia.com/gpu"), container.Text("resources", "requests", "nvidia.com/gpu") ?? container.Text("resources", "limits", "nvidia.com/gpu"));
        Assert.NotEmpty(pod.Labels("nodeSelector"));
        Assert.Contains(pod.Items("tolerations"), t => t.Text("key") == "nvidia.com/gpu");
        var antiAffinity = pod.Items("affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution").Single();
        Assert.Equal("kubernetes.io/hostname", antiAffinity.Text("topologyKey"));
        var podLabels = SiloDeployment.Labels("spec", "template", "metadata", "labels");
        Assert.All(antiAffinity.Labels("labelSelector", "matchLabels"), kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
        Assert.Equal("0", SiloDeployment.Text("spec", "strategy", "rollingUpdate", "maxSurge"));

        var env = container.Items("env").ToDictionary(e => e.Text("name")!);
        Assert.Equal("status.podIP", env["SCM_Cluster__AdvertisedIp"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.name", env["SCM_Cluster__SiloName"].Text("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("Redis", ConfigMap["SCM_Cluster__Clustering"]);
        Assert.Equal("Redis", ConfigMap["SCM_Cluster__Storage"]);
        Assert.Equal("auto", ConfigMap["SCM_Devices__Devices"]);
        // Production failure detection (docs/DEPLOYMENT.md): faster than Orleans' 5 s probes, still two votes.
        Assert.Equal(TimeSpan.FromSeconds(2), TimeSpan.Parse(ConfigMap["SCM_Cluster__Membership__ProbeTimeout"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("3", ConfigMap["SCM_Cluster__Membership__NumMissedProbesLimit"]);
        Assert.Equal("2", ConfigMap["SCM_Cluster__Membership__NumVotesForDeathDeclaration"]);
        // Credentials come from the Secret, never from the ConfigMap.
        var secretKeys = Single("Secret", "scm-silo-secrets").Labels("stringData").Keys.ToHashSet();
        foreach (var name in new[] { "SCM_Cluster__RedisConnectionString", "SCM_Blob__AzureConnectionString", "SCM_Tenants__AdminKeyHash", "SCM_Cluster__InternalCallSecret" })
        {
            Assert.DoesNotContain(name, ConfigMap.Keys);
            Assert.Equal("scm-silo-secrets", env[name].Text("valueFrom", "secretKeyRef", "name"));
            Assert.Contains(env[name].Text("valueFrom", "secretKeyRef", "key")!, secretKeys);
        }
    }

    [Fact]
    public void Only_the_http_port_is_open_to_all_orleans_and_redis_only_to_silo_pods_and_orleans_runs_mutual_tls_from_a_secret()
    {
        var silos = SiloDeployment.Labels("spec", "template", "metadata", "labels");
        bool SelectsSilos(YamlNode peer) => peer.Labels("podSelector", "matchLabels") is { Count: > 0 } wanted &&
            wanted.All(kv => silos.GetValueOrDefault(kv.Key) == kv.Value);
        var ports = SiloContainer.Items("ports").ToDictionary(p => p.Text("name")!, p => p.Text("containerPort")!);

        var policy = Single("NetworkPolicy", "scm-silo");
        Assert.All(policy.Labels("spec", "podSelector", "matchLabels"), kv => Assert.Equal(kv.Value, silos.GetValueOrDefault(kv.Key)));
        var rules = policy.Items("spec", "ingress").ToList();
        var open = rules.Where(r => r.At("from") is null).SelectMany(r => r.Items("ports")).Select(p => p.Text("port")).ToList();
        Assert.Equal([ports["http"]], open);
        var restricted = rules.Where(r => r.At("from") is not null).ToList();
        Assert.All(restricted.SelectMany(r => r.Items("from")), peer => Assert.True(SelectsSilos(peer)));
        Assert.Equal(new[] { ports["gateway"], ports["silo"] }.Order(), restricted.SelectMany(r => r.Items("ports")).Select(p => p.Text("port")!).Order());

        var redis = Single("NetworkPolicy", "redis");
        Assert.Equal(Single("StatefulSet", "redis").Labels("spec", "selector", "matchLabels"), redis.Labels("spec", "podSelector", "matchLabels"));
        Assert.All(redis.Items("spec", "ingress"), rule => Assert.All(rule.Items("from"), peer => Assert.True(SelectsSilos(peer))));

        // TLS: on, with the three PEM files of the Secret scm-silo-tls, mounted read-only where the ConfigMap says.
        Assert.Equal("true", ConfigMap["SCM_Cluster__Tls__Enabled"]);
        var mount = SiloContainer.Items("volumeMounts").Single(m => m.Text("name") == "cluster-tls");
        Assert.Equal("true", mount.Text("readOnly"));
        var volume = SiloDeployment.Items("spec", "template", "spec", "volumes").Single(v => v.Text("name") == "cluster-tls");
        Assert.Equal("scm-silo-tls", volume.Text("secret", "secretName"));
        var files = Single("Secret", "scm-silo-tls").Labels("stringData").Keys.ToHashSet();
        foreach (var key in new[] { "CertificatePath", "KeyPath", "CaPath" })
        {
            var path = ConfigMap[$"SCM_Cluster__Tls__{key}"];
            Assert.Equal(mount.Text("mountPath"), Path.GetDirectoryName(path));
            Assert.Contains(Path.GetFileName(path), files);
        }
    }

    [Fact]
    public void The_grace_period_outlasts_the_silos_shutdown_timeout_and_the_pdb_selects_the_silo_pods()
    {
        var shutdown = TimeSpan.Parse(Effective("Host:ShutdownTimeout")!, CultureInfo.InvariantCulture);
        Assert.Equal(Settings["Host:ShutdownTimeout"], Effective("Host:ShutdownTimeout")); // one value, image or pod
        var grace = int.Parse(SiloDeployment.Text("spec", "template", "spec", "terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture);
        Assert.True(grace > shutdown.TotalSeconds, $"terminationGracePeriodSeconds {grace} <= shutdown timeout {shutdown}");

        var pdb = Single("PodDisruptionBudget", "scm-silo");
        var podLabels = SiloDeployment.Labels("spec", "template", "metadata", "labels");
        var selector = pdb.Labels("spec", "selector", "matchLabels");
        Assert.All(selector, kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
        // ...and nothing else: the Redis pods do not carry the silo's labels.
        var redisLabels = Single("StatefulSet", "redis").Labels("spec", "template", "metadata", "labels");
        Assert.False(selector.All(kv => redisLabels.GetValueOrDefault(kv.Key) == kv.Value));
    }

    [Fact]
    public void Every_SCM_variable_maps_to_a_configuration_key_the_silo_reads()
    {
        var variables = new List<(string Where, string Name)>();
        variables.AddRange(ConfigMap.Keys.Select(k => ("configmap", k)));
        variables.AddRange(SiloContainer.Items("env").Select(e => ("silo env", e.Text("name")!)));
        foreach (var (name, service) in ComposeServices())
            variables.AddRange(service.At("environment") is YamlMappingNode env ? env.Children.Keys.Select(k => ($"compose {name}", ((YamlScalarNode)k).Value!)) : []);
        variables.AddRange(DockerfileVariables(Path.Combine(RepoRoot, "infra", "Dockerfile")).Select(v => ("Dockerfile", v)));
        Assert.True(variables.Count > 20);
        var unknown = variables.Where(v => ConfigurationKey(v.Name, Settings) is null).ToList();
        Assert.True(unknown.Count == 0, "no configuration key for: " + string.Join(", ", unknown.Select(v => $"{v.Name} ({v.Where})")));
    }

    static IEnumerable<(string Name, YamlNode Service)> ComposeServices() =>
        ((YamlMappingNode)Documents(ComposeFile).Single().At("services")!).Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, kv.Value));

    [Fact]
    public void Compose_runs_redis_azurite_and_three_silos_built_from_the_repository()
    {
        var services = ComposeServices().ToDictionary(s => s.Name, s => s.Service);
        Assert.Contains("redis", services.Keys);
        Assert.Contains("azurite", services.Keys);
        var silos = services.Where(s => s.Key.StartsWith("silo", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, silos.Count);
        var shutdown = TimeSpan.Parse(Settings["Host:ShutdownTimeout"]!, CultureInfo.InvariantCulture);
        var addresses = new HashSet<string>();
        foreach (var (name, service) in services)
        {
            var build = service.At("build");
            if (build is null)
            {
                Assert.Matches(@"^[a-z0-9./-]+:[A-Za-z0-9._-]+$", service.Text("image")); // a pinned image tag
                continue;
            }
            var context = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ComposeFile)!, build.Text("context")!));
            Assert.True(Directory.Exists(context), $"{name}: build context {context}");
            Assert.True(File.Exists(Path.Combine(context, build.Text("dockerfile")!)), $"{name}: dockerfile");
            Assert.True(File.Exists(Path.Combine(context, "Silo", "Silo.csproj")), $"{name}: the context is the repository root");
        }
        foreach (var (name, silo) in silos)
        {
            foreach (var dependency in silo.At("depends_on") is YamlMappingNode deps ? deps.Children.Keys.Select(k => ((YamlScalarNode)k).Value!) : [])
                Assert.Contains(dependency, services.Keys);
            Assert.Equal("Redis", silo.Text("environment", "SCM_Cluster__Clustering"));
            Assert.Equal(name, silo.Text("environment", "SCM_Cluster__SiloName"));
            var advertised = silo.Text("environment", "SCM_Cluster__AdvertisedIp")!;
            Assert.Equal(advertised, silo.Text("networks", "scm", "ipv4_address"));
            Assert.True(addresses.Add(advertised), $"{name}: address {advertised} used twice");
            var grace = TimeSpan.FromSeconds(int.Parse(silo.Text("stop_grace_period")!.TrimEnd('s'), CultureInfo.InvariantCulture));
            Assert.True(grace > shutdown, $"{name}: stop_grace_period {grace} <= {shutdown}");
            Assert.Contains("/readyz", string.Join(" ", silo.Items("healthcheck", "test").Select(t => ((YamlScalarNode)t).Value)));
        }
    }
}
