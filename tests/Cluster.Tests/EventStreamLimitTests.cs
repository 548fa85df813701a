using System.Net;
using Grains.Interfaces;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests;

/// <summary>
/// One API key holds at most HttpApi:MaxEventStreamsPerKey open event streams per silo (each polls the cluster while it
/// is open) and HttpApi:MaxDownloadsPerKey video and manifest downloads in flight. A silo whose only device is simulated at 1 s per frame keeps the job running for as long as the test needs.
/// </summary>
public class EventStreamLimitTests
{
    [Fact]
    public async Task A_key_at_its_stream_limit_gets_429_until_one_of_its_streams_closes_and_other_keys_are_unaffected()
    {
        var serviceId = "scm-streams-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId,
            ["Devices:Simulated:Count"] = "1", ["Devices:Simulated:PerFrameDelay"] = "00:00:01",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", serviceId),
            ["Models:Registry:tiny"] = TestModels.TinyCard, ["Tenants:AdminKeyHash"] = adminHash,
            ["HttpApi:MaxEventStreamsPerKey"] = "2",
        };
        await using var silo = SiloProcess.Start("streams", settings);
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var admin = Client(silo, adminKey);
        var acme = await JsonOf(await admin.PostAsync("v1/admin/tenants", Json("""{"tenant":"acme"}""")));
        using var http = Client(silo, acme.GetProperty("apiKey").GetString()!);
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
        var other = await JsonOf(await admin.PostAsync("v1/admin/tenants/acme/keys", Json("""{"keepOld":true}""")));
        using var otherHttp = Client(silo, other.GetProperty("apiKey").GetString()!);
        using var third = await otherHttp.GetAsync("v1/jobs/slow/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);

        // Closing a stream frees its slot once the silo sees the connection go (a deadline, not a timing assertion).
        first.Dispose();
        HttpStatusCode again;
        do
        {
            await Task.Delay(200, deadline.Token);
            using var retry = await http.GetAsync("v1/jobs/slow/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            again = retry.StatusCode;
        } while (again == HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("v1/jobs/slow:cancel", null)).StatusCode);
    }

    /// <summary>
    /// Video and manifest downloads count against HttpApi:MaxDownloadsPerKey while the client has not read them. The
    /// manifest blob is replaced by 48 MB so that a download the client does not read cannot finish into socket buffers.
    /// </summary>
    [Fact]
    public async Task A_key_at_its_download_limit_gets_429_until_a_download_ends_and_its_event_streams_are_counted_apart()
    {
        var serviceId = "scm-downloads-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        string blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", serviceId);
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId,
            ["Devices:Simulated:Count"] = "1", ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot,
            ["Models:Registry:tiny"] = TestModels.TinyCard, ["Tenants:AdminKeyHash"] = adminHash,
            ["HttpApi:MaxDownloadsPerKey"] = "2", ["HttpApi:MaxEventStreamsPerKey"] = "1",
        };
        await using var silo = SiloProcess.Start("downloads", settings);
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var admin = Client(silo, adminKey);
        var acme = await JsonOf(await admin.PostAsync("v1/admin/tenants", Json("""{"tenant":"acme"}""")));
        using var http = Client(silo, acme.GetProperty("apiKey").GetString()!);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("v1/jobs?jobId=done", Json("""{"modelId":"tiny","frames":4,"outputSize":8}"""))).StatusCode);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while ((await JsonOf(await http.GetAsync("v1/jobs/done", deadline.Token))).GetProperty("state").GetString() != "Completed")
            await Task.Delay(200, deadline.Token);
        string manifest = Directory.EnumerateFiles(blobRoot, "*manifest*", SearchOption.AllDirectories).Single();
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
        HttpStatusCode again;
        do
        {
            await Task.Delay(200, deadline.Token);
            using var retry = await http.GetAsync("v1/jobs/done/manifest", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            again = retry.StatusCode;
        } while (again == HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.OK, again);
    }

    static HttpClient Client(SiloProcess silo, string key)
    {
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, MaxConnectionsPerServer = 16 }) { BaseAddress = silo.HttpBase };
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return http;
    }
}
