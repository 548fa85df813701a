using System.Net;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests;

/// <summary>
/// One API key holds at most HttpApi:MaxEventStreamsPerKey open event streams per silo (each polls the cluster while it
/// is open) and HttpApi:MaxDownloadsPerKey video and manifest downloads in flight, each counted apart.
/// </summary>
public class KeySlotLimitTests
{
    /// <summary>A silo whose only device is simulated at 1 s per frame keeps the job running for as long as the test needs.</summary>
    [Fact]
    public async Task A_key_at_its_stream_limit_gets_429_until_one_of_its_streams_closes_and_other_keys_are_unaffected()
    {
        await using var cluster = await Silo.StartAsync("streams", new() { ["Devices:Simulated:PerFrameDelay"] = "00:00:01", ["HttpApi:MaxEventStreamsPerKey"] = "2" });
        using var http = cluster.Client(cluster.TenantKey);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("v1/jobs?jobId=slow", Json("""{"modelId":"tiny","frames":100,"outputSize":8}"""))).StatusCode);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var first = await http.GetAsync("v1/jobs/slow/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        using var second = await http.GetAsync("v1/jobs/slow/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        var refused = await http.GetAsync("v1/jobs/slow/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        var problem = await ProblemOf(refused, HttpStatusCode.TooManyRequests);
        Assert.Contains("MaxEventStreamsPerKey", problem.GetProperty("detail").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);

        // Another key of the same tenant has slots of its own.
        using var admin = cluster.Client(cluster.AdminKey);
        var other = await JsonOf(await admin.PostAsync("v1/admin/tenants/acme/keys", Json("""{"keepOld":true}""")));
        using var otherHttp = cluster.Client(other.GetProperty("apiKey").GetString()!);
        using var third = await otherHttp.GetAsync("v1/jobs/slow/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);

        first.Dispose();
        Assert.Equal(HttpStatusCode.OK, await StatusOnceAdmittedAsync(http, "v1/jobs/slow/events", deadline.Token));
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("v1/jobs/slow:cancel", null)).StatusCode);
    }

    /// <summary>The manifest blob is replaced by 48 MB so that a download the client does not read cannot finish into socket buffers.</summary>
    [Fact]
    public async Task A_key_at_its_download_limit_gets_429_until_a_download_ends_and_its_event_streams_are_counted_apart()
    {
        await using var cluster = await Silo.StartAsync("downloads", new() { ["HttpApi:MaxDownloadsPerKey"] = "2", ["HttpApi:MaxEventStreamsPerKey"] = "1" });
        using var http = cluster.Client(cluster.TenantKey);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("v1/jobs?jobId=done", Json("""{"modelId":"tiny","frames":4,"outputSize":8}"""))).StatusCode);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while ((await JsonOf(await http.GetAsync("v1/jobs/done", deadline.Token))).GetProperty("state").GetString() != "Completed")
            await Task.Delay(200, deadline.Token);
        string manifest = Directory.EnumerateFiles(cluster.BlobRoot, "*manifest*", SearchOption.AllDirectories).Single();
        await File.WriteAllBytesAsync(manifest, new byte[48 << 20], deadline.Token);

        using var first = await http.GetAsync("v1/jobs/done/manifest", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        using var second = await http.GetAsync("v1/jobs/done/manifest", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        var refused = await http.GetAsync("v1/jobs/done/manifest", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        var problem = await ProblemOf(refused, HttpStatusCode.TooManyRequests);
        Assert.Contains("MaxDownloadsPerKey", problem.GetProperty("detail").GetString());
        Assert.NotNull(refused.Headers.RetryAfter);
        // Event streams have their own slots (the job is over: the stream gives its terminal event and ends).
        using (var events = await http.GetAsync("v1/jobs/done/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token))
            Assert.Equal(HttpStatusCode.OK, events.StatusCode);

        first.Dispose();
        Assert.Equal(HttpStatusCode.OK, await StatusOnceAdmittedAsync(http, "v1/jobs/done/manifest", deadline.Token));
    }

    /// <summary>A closed response frees its slot once the silo sees the connection go: asked again until no longer 429 (a deadline, not a timing assertion).</summary>
    static async Task<HttpStatusCode> StatusOnceAdmittedAsync(HttpClient http, string path, CancellationToken deadline)
    {
        while (true)
        {
            await Task.Delay(200, deadline);
            using var retry = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, deadline);
            if (retry.StatusCode != HttpStatusCode.TooManyRequests) return retry.StatusCode;
        }
    }

    /// <summary>One silo process (Redis clustering, one simulated device, local blobs, the tiny model) with tenant "acme" and its key.</summary>
    sealed class Silo(SiloProcess process, string adminKey, string tenantKey, string blobRoot) : IAsyncDisposable
    {
        public string AdminKey => adminKey;
        public string TenantKey => tenantKey;
        public string BlobRoot => blobRoot;

        public static async Task<Silo> StartAsync(string name, Dictionary<string, string> settings)
        {
            var serviceId = $"scm-{name}-" + Guid.NewGuid().ToString("N")[..10];
            var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
            string blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", serviceId);
            var all = new Dictionary<string, string>
            {
                ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
                ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Simulated:Count"] = "1",
                ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot,
                ["Models:Registry:tiny"] = TestModels.TinyCard, ["Tenants:AdminKeyHash"] = adminHash,
            };
            foreach (var (key, value) in settings) all[key] = value;
            var process = SiloProcess.Start(name, all);
            try
            {
                await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
                using var admin = NewClient(process, adminKey);
                var acme = await JsonOf(await admin.PostAsync("v1/admin/tenants", Json("""{"tenant":"acme"}""")));
                return new Silo(process, adminKey, acme.GetProperty("apiKey").GetString()!, blobRoot);
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }

        public HttpClient Client(string key) => NewClient(process, key);

        static HttpClient NewClient(SiloProcess silo, string key)
        {
            var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, MaxConnectionsPerServer = 16 }) { BaseAddress = silo.HttpBase };
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            return http;
        }

        public ValueTask DisposeAsync() => process.DisposeAsync();
    }
}
