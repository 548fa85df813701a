using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ClusterClient;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests;

/// <summary>The silo's /metrics and /dashboard endpoints, against real scm-silo processes.</summary>
public class SiloMetricsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    const string Tenant = "metrics-tenant";

    [Fact]
    public async Task After_a_job_the_scrape_shows_its_frames_batches_and_device_time_and_an_idle_scheduler()
    {
        const int frames = 10, batch = 4; // items of 4, 4 and 2 frames; a lease holds at most 4 frames, so one item each
        var (settings, serviceId, adminKey, blobRoot) = Settings();
        settings["Devices:MaxLeaseFrames"] = batch.ToString(CultureInfo.InvariantCulture);
        settings["Scheduler:DefaultItemFrames"] = batch.ToString(CultureInfo.InvariantCulture);
        settings["Metrics:TenantLabels"] = "true";
        await using var silo = SiloProcess.Start("metrics-a", settings);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var (host, admin) = await SiloProcess.ConnectWithRetryAsync(Options(serviceId), adminKey, TimeSpan.FromSeconds(30));
            using (host)
            {
                var tenantKey = await admin.CreateTenantAsync(Tenant);
                var client = new GenerationClient(host.Services.GetRequiredService<IClusterClient>(), Options(serviceId), tenantKey.ApiKey);
                var (jobId, result) = await client.SubmitAsync(new JobSpec
                {
                    Kind = JobKind.Video, ModelId = "tiny", Classes = [3, 8], Frames = frames, Seed = 4, OutputSize = 32,
                });
                Assert.True(result.Accepted, string.Join("; ", result.Errors));
                JobStatus? last = null;
                await foreach (var status in client.WatchAsync(jobId).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
                    last = status;
                Assert.Equal(JobState.Completed, last!.State);
                await host.StopAsync();
            }

            // The scheduler publishes its gauges on its periodic scan: wait for the scan after the last release.
            var scrape = await ScrapeUntilAsync(silo, s =>
                s.Value("scm_scheduler_queue_depth", ("tenant", Tenant)) == 0 && s.Value("scm_scheduler_leases_outstanding") == 0);

            (string, string) tenant = ("tenant", Tenant), model = ("model", "tiny"), device = ("device", "cpu");
            Assert.Equal(frames, scrape.Value("scm_frames_completed_total", tenant, model));
            Assert.Equal(1, scrape.Value("scm_jobs_completed_total", tenant, ("state", "completed")));
            int batches = (frames + batch - 1) / batch;
            Assert.Equal(batches, scrape.Value("scm_scheduler_leases_granted_total"));
            Assert.Equal(batches, scrape.Value("scm_batch_size_count", model, device));
            Assert.Equal(frames, scrape.Value("scm_batch_size_sum", model, device));
            Assert.Equal(1, scrape.Value("scm_batch_size_bucket", model, device, ("le", "2")));        // the last 2 frames
            Assert.Equal(batches, scrape.Value("scm_batch_size_bucket", model, device, ("le", "4")));
            Assert.Equal(batches, scrape.Value("scm_batch_duration_seconds_count", model, device));
            Assert.True(scrape.Value("scm_batch_duration_seconds_sum", model, device) > 0);
            Assert.True(scrape.Value("scm_tenant_device_time_seconds_total", tenant) > 0);
            // A batch's device time is shared out to its tenants: here all of it is this tenant's.
            Assert.Equal(scrape.Value("scm_device_busy_time_seconds_total", device)!.Value,
                scrape.Value("scm_tenant_device_time_seconds_total", tenant)!.Value, 6);
            Assert.InRange(scrape.Value("scm_device_utilization", device)!.Value, double.Epsilon, 1);
            Assert.Equal(1, scrape.Value("scm_model_load_duration_seconds_count", model, device));
            Assert.Null(scrape.Value("scm_item_failures_total", tenant));
            Assert.Null(scrape.Value("scm_item_retries_total", tenant));
            Assert.Null(scrape.Value("scm_scheduler_leases_expired_total"));
            // The scheduler's own time per call: every release and every granted lease is one measurement.
            Assert.Equal(batches, scrape.Value("scm_scheduler_call_duration_seconds_count", ("call", "release")));
            Assert.True(scrape.Value("scm_scheduler_call_duration_seconds_count", ("call", "lease")) >= batches);
            Assert.True(scrape.Value("scm_scheduler_call_duration_seconds_count", ("call", "offer")) >= 1);
            Assert.True(scrape.Value("scm_scheduler_call_duration_seconds_sum", ("call", "lease")) > 0);
            // Orleans' own meter comes along.
            Assert.Contains(scrape.Samples, s => s.Name.StartsWith("orleans_", StringComparison.Ordinal));

            // The dashboard is off by default: nothing is mapped under its path.
            using var http = new HttpClient { BaseAddress = silo.HttpBase };
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("dashboard/")).StatusCode);
        }
        catch
        {
            output.WriteLine(File.ReadAllText(silo.LogPath));
            throw;
        }
        finally
        {
            if (Directory.Exists(blobRoot)) Directory.Delete(blobRoot, recursive: true);
        }
    }

    [Fact]
    public async Task The_dashboard_needs_a_key_when_on_and_the_silo_refuses_to_start_it_without_one()
    {
        var (keyId, dashboardKey, salt, hash) = ApiKeys.Generate();
        var (settings, _, adminKey, blobRoot) = Settings();
        settings["Dashboard:Enabled"] = "true";
        settings["Dashboard:KeyHash"] = ApiKeys.HashLine(keyId, salt, hash);
        await using var silo = SiloProcess.Start("dashboard-a", settings);

        // Enabled without any credential: a configuration error naming the key, before the silo joins anything.
        await using (var unprotected = SiloProcess.Start("dashboard-b", new Dictionary<string, string> { ["Dashboard:Enabled"] = "true" }))
        {
            Assert.Equal(2, await unprotected.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("Dashboard:KeyHash is required", File.ReadAllText(unprotected.LogPath));
        }
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            using var http = new HttpClient { BaseAddress = silo.HttpBase };
            async Task<HttpResponseMessage> Get(AuthenticationHeaderValue? auth)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "dashboard/");
                request.Headers.Authorization = auth;
                return await http.SendAsync(request);
            }
            static AuthenticationHeaderValue Basic(string password) =>
                new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:" + password)));

            var anonymous = await Get(null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString());
            var (_, otherKey, _, _) = ApiKeys.Generate();
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(new AuthenticationHeaderValue("Bearer", otherKey))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(Basic(dashboardKey + "x"))).StatusCode);

            Assert.Equal(HttpStatusCode.OK, (await Get(new AuthenticationHeaderValue("Bearer", dashboardKey))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Get(Basic(dashboardKey))).StatusCode);
            // An admin API key of the cluster opens it too (checked by the cluster, so a revoked key would not).
            Assert.Equal(HttpStatusCode.OK, (await Get(Basic(adminKey))).StatusCode);
            // The guard covers the whole path, not only the page.
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("dashboard/index.min.js")).StatusCode);
        }
        catch
        {
            output.WriteLine(File.ReadAllText(silo.LogPath));
            throw;
        }
        finally
        {
            if (Directory.Exists(blobRoot)) Directory.Delete(blobRoot, recursive: true);
        }
    }

    static (Dictionary<string, string> Settings, string ServiceId, string AdminKey, string BlobRoot) Settings()
    {
        var serviceId = "scm-metrics-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        var blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "metrics-blobs-" + Guid.NewGuid().ToString("N"));
        // Redis membership: a lone Localhost silo would look for a primary on the default port.
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot, ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Scheduler:OfferInterval"] = "00:00:00.500", ["Scheduler:ExpiryScanInterval"] = "00:00:00.200",
            ["Tenants:AdminKeyHash"] = adminHash,
        };
        return (settings, serviceId, adminKey, blobRoot);
    }

    static ClientConnectionOptions Options(string serviceId) => new()
    {
        Clustering = "Redis", RedisConnectionString = ClusterHarness.RedisConnectionString, ClusterId = serviceId, ServiceId = serviceId,
        CallTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>Scrapes until <paramref name="done"/> holds (a deadline, not a timing assertion); returns that scrape.</summary>
    static async Task<PrometheusScrape> ScrapeUntilAsync(SiloProcess silo, Func<PrometheusScrape, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var scrape = await PrometheusScrape.GetAsync(silo.HttpBase);
            if (done(scrape)) return scrape;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("metrics did not settle; last scrape:\n" + scrape.Text);
            await Task.Delay(200);
        }
    }
}
