using BlobStorage;
using ClusterClient;
using Grains.Hosting;
using Grains.Interfaces;
using Grains.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Cluster.Tests;

/// <summary>An in-process cluster of N silos on the real grains, with test-speed timings.</summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    public InProcessTestCluster Cluster { get; }
    public IBlobStore Blobs { get; }
    public string BlobRoot { get; }
    public IClusterClient Client => Cluster.Client;
    /// <summary>The bootstrap admin key of this cluster (its hash is in the silos' Tenants:AdminKeyHash).</summary>
    public string AdminKey { get; }
    public string ServiceId { get; }

    ClusterHarness(InProcessTestCluster cluster, IBlobStore blobs, string blobRoot, string adminKey, string serviceId)
    {
        Cluster = cluster;
        Blobs = blobs;
        BlobRoot = blobRoot;
        AdminKey = adminKey;
        ServiceId = serviceId;
    }

    /// <summary>A client of the public API with the given key.</summary>
    public GenerationClient Api(string? apiKey) =>
        new(Client, new ClusterClient.ClientConnectionOptions { CallTimeout = TimeSpan.FromSeconds(20) }, apiKey);

    public GenerationClient AdminApi => Api(AdminKey);

    /// <summary>A fresh admin key and its silo configuration line.</summary>
    public static (string ApiKey, string HashLine) NewAdminKey()
    {
        var (keyId, apiKey, salt, hash) = ApiKeys.Generate();
        return (apiKey, ApiKeys.HashLine(keyId, salt, hash));
    }

    /// <summary>The Redis server tests use (started by infra/services.sh; env SCM_TEST_REDIS).</summary>
    public static string RedisConnectionString => Environment.GetEnvironmentVariable("SCM_TEST_REDIS") ?? "127.0.0.1:6390";

    /// <summary>The Azurite the tests use (started by infra/services.sh; env SCM_TEST_AZURITE_CONNECTION).</summary>
    public static string AzuriteConnectionString => Environment.GetEnvironmentVariable("SCM_TEST_AZURITE_CONNECTION") ??
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

    /// <param name="storage">"Memory" or "Redis" (grain state and reminders; Redis survives silo loss).</param>
    public static async Task<ClusterHarness> StartAsync(int silos = 2, IDictionary<string, string?>? settings = null,
        IFaultInjector? faults = null, Action<ISiloBuilder>? configure = null, string storage = "Memory", string blob = "Local",
        string? serviceId = null, (string ApiKey, string HashLine)? adminKey = null, string? blobRootOverride = null)
    {
        var admin = adminKey ?? NewAdminKey();
        var blobRoot = blobRootOverride ?? Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "blobs-" + Guid.NewGuid().ToString("N"));
        var blobs = blob == "Azure"
            ? BlobStoreFactory.Create(new BlobStorageOptions
            {
                Provider = BlobStorageOptions.AzureProvider, AzureConnectionString = AzuriteConnectionString,
                Container = "test-" + Guid.NewGuid().ToString("N")[..12],
            })
            : new LocalFolderBlobStore(blobRoot);
        var values = new Dictionary<string, string?>
        {
            ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Devices:Devices"] = "cpu",
            ["Devices:MaxLeaseFrames"] = "8",
            ["Scheduler:DefaultItemFrames"] = "4",
            ["Scheduler:OfferInterval"] = "00:00:00.200",
            ["Scheduler:ExpiryScanInterval"] = "00:00:00.200",
            ["Scheduler:LeaseTimeout"] = "00:00:10",
            ["Tenants:AdminKeyHash"] = admin.HashLine,
            // Tests of internals call coordinators and the scheduler directly; tenant tests turn the restriction on.
            ["Tenants:RestrictClientCalls"] = "false",
        };
        if (storage == "Redis")
        {
            values["Cluster:Storage"] = "Redis";
            values["Cluster:RedisConnectionString"] = RedisConnectionString;
        }
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        var builder = new InProcessTestClusterBuilder((short)silos);
        // A fresh service id per cluster keeps Redis-stored state of earlier runs out of this one.
        serviceId ??= "scm-test-" + Guid.NewGuid().ToString("N")[..12];
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddGenerationCluster(configuration);
            silo.Services.AddSingleton<IBlobStore>(blobs);
            if (faults is not null) silo.Services.AddSingleton(faults);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
            // Calls into a dead silo fail after 5 s instead of Orleans' default 30 s.
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5));
            configure?.Invoke(silo);
        });
        builder.ConfigureClient(client => client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ClusterHarness(cluster, blobs, blobRoot, admin.ApiKey, serviceId);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try { Directory.Delete(BlobRoot, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
