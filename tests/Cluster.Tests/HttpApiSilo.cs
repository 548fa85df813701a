using System.Net.Http.Headers;
using ClusterClient;
using Grains.Interfaces;

namespace Cluster.Tests;

[CollectionDefinition(Name)]
public sealed class HttpApiCollection : ICollectionFixture<HttpApiSilo>
{
    public const string Name = "http-api";
}

/// <summary>
/// One real scm-silo process with HttpApi:Enabled=true (and one with the API left off), shared by the HTTP API
/// tests: three tenants created through the admin's Orleans client, each with its key.
/// </summary>
public sealed class HttpApiSilo : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;
    public SiloProcess Disabled { get; private set; } = null!;
    public string KeyA { get; private set; } = "";
    public string KeyB { get; private set; } = "";
    /// <summary>A tenant whose MaxQueuedFrames (4) is smaller than any job the tests submit.</summary>
    public string KeySmallQuota { get; private set; } = "";
    public const int SmallQueuedFrames = 4;
    /// <summary>A tenant only the fuzz test uses, so that it can check afterwards that nothing was created.</summary>
    public string KeyFuzz { get; private set; } = "";
    /// <summary>The bootstrap admin key (scmctl's admin commands over HTTP).</summary>
    public string AdminKey { get; private set; } = "";
    /// <summary>The bootstrap admin key's id (a right id with a wrong secret must be refused as WrongKey).</summary>
    public string AdminKeyId { get; private set; } = "";
    /// <summary>Orleans cluster and service id of the enabled silo (they are equal).</summary>
    public string ServiceId { get; private set; } = "";
    readonly string blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "http-blobs-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        var serviceId = "scm-http-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        AdminKeyId = ApiKeys.Parse(adminKey).KeyId;
        AdminKey = adminKey;
        ServiceId = serviceId;
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot, ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Scheduler:DefaultItemFrames"] = "4", ["Scheduler:OfferInterval"] = "00:00:00.200",
            ["Tenants:AdminKeyHash"] = adminHash, ["HttpApi:Enabled"] = "true", ["HttpApi:EventPollInterval"] = "00:00:00.100",
        };
        // A separate cluster (own service id) with the API off: its HTTP port serves health only.
        var disabledId = serviceId + "-off";
        var disabledSettings = new Dictionary<string, string>(settings)
        {
            ["Cluster:ServiceId"] = disabledId, ["Cluster:ClusterId"] = disabledId, ["HttpApi:Enabled"] = "false",
        };
        Silo = SiloProcess.Start("http-on", settings);
        Disabled = SiloProcess.Start("http-off", disabledSettings);
        await Task.WhenAll(Silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), Disabled.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)));

        var options = new ClientConnectionOptions
        {
            Clustering = "Redis", RedisConnectionString = ClusterHarness.RedisConnectionString, ClusterId = serviceId, ServiceId = serviceId,
            CallTimeout = TimeSpan.FromSeconds(20),
        };
        var (host, admin) = await SiloProcess.ConnectWithRetryAsync(options, adminKey);
        using (host)
        {
            KeyA = (await admin.CreateTenantAsync("http-a")).ApiKey;
            KeyB = (await admin.CreateTenantAsync("http-b")).ApiKey;
            KeySmallQuota = (await admin.CreateTenantAsync("http-q", new QuotaPatch { MaxQueuedFrames = SmallQueuedFrames })).ApiKey;
            KeyFuzz = (await admin.CreateTenantAsync("http-fuzz")).ApiKey;
            await host.StopAsync();
        }
    }

    /// <summary>A client of the enabled silo; the key goes in "Authorization: Bearer" unless <paramref name="header"/> says otherwise.</summary>
    public HttpClient Http(string? apiKey, string header = "Authorization")
    {
        var http = new HttpClient { BaseAddress = Silo.HttpBase, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            if (header == "Authorization") http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            else http.DefaultRequestHeaders.Add(header, apiKey);
        }
        return http;
    }

    public string Logs() => File.ReadAllText(Silo.LogPath);

    public async Task DisposeAsync()
    {
        if (Silo is not null) await Silo.DisposeAsync();
        if (Disabled is not null) await Disabled.DisposeAsync();
        if (Directory.Exists(blobRoot)) Directory.Delete(blobRoot, recursive: true);
    }
}
