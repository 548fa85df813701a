using ApiClient;
using static Cluster.Tests.HttpApiTesting;
using static Cluster.Tests.Scmctl.ScmctlProcess;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// Two silos (Redis membership and state) behind a load-balancing proxy; the silo serving a watch is stopped mid-job.
/// Its event streams end with an "unavailable" event, and `scmctl watch` through the proxy carries on at the other
/// silo and ends with the job's terminal state.
/// </summary>
public sealed class ScmctlFailoverTests
{
    [Fact]
    public async Task A_stopping_silo_sends_a_final_unavailable_event_and_watch_carries_on_at_another_silo()
    {
        var serviceId = "scm-fo-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        var blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "failover-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:Storage"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu", ["Devices:CpuThreads"] = "1",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot, ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Scheduler:DefaultItemFrames"] = "4", ["Scheduler:OfferInterval"] = "00:00:00.300", ["Tenants:AdminKeyHash"] = adminHash,
            ["HttpApi:EventPollInterval"] = "00:00:00.100", ["Host:ShutdownTimeout"] = "00:00:10",
            ["Cluster:Membership:ProbeTimeout"] = "00:00:01", ["Cluster:Membership:NumMissedProbesLimit"] = "2",
            ["Cluster:Membership:NumVotesForDeathDeclaration"] = "1",
        };
        await using var a = SiloProcess.Start("fo-a", settings);
        await using var b = SiloProcess.Start("fo-b", settings);
        try
        {
            await Task.WhenAll(a.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)), b.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)));
            // The whole setup over HTTP with the bootstrap admin key: no Orleans client anywhere.
            using var admin = new ScmApiClient(new ScmApiClientOptions { BaseAddress = b.HttpBase, ApiKey = adminKey });
            var key = (await admin.CreateTenantAsync("fo-tenant")).ApiKey;
            using var tenant = new ScmApiClient(new ScmApiClientOptions { BaseAddress = b.HttpBase, ApiKey = key });
            // The tenant's largest job (2,000 frames): an idle machine renders the tiny model at hundreds of frames/s.
            var job = await tenant.SubmitAsync(new JobRequest { Kind = "ImageSet", ModelId = "tiny", Classes = [1, 2], Frames = 2000, OutputSize = 8 });

            await using var proxy = new CuttingProxy([a.HttpBase, b.HttpBase], cutAfter: null); // A first, B when A is gone
            var watch = RunAsync(proxy.Url, key, TimeSpan.FromSeconds(180), "watch", job.JobId);

            using var http = new HttpClient { BaseAddress = a.HttpBase, Timeout = TimeSpan.FromSeconds(60) };
            using var request = Get($"v1/jobs/{job.JobId}/events", key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var events = ReadEventsAsync(response, CancellationToken.None);
            // Stop the silo as soon as the job renders (not after a fixed delay, which a fast machine outlasts).
            var before = await tenant.GetJobAsync(job.JobId);
            for (var deadline = DateTime.UtcNow.AddSeconds(60); before is { FramesDone: 0, IsTerminal: false } && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                before = await tenant.GetJobAsync(job.JobId);
            }
            Assert.False(before!.IsTerminal, "the job ended before the silo stopped; the test proves nothing");
            a.Terminate();

            var seen = await events.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("unavailable", seen[^1].Event); // not a bare close
            Assert.True(seen[^1].Data.GetProperty("retryAfterSeconds").GetInt32() > 0);
            Assert.Contains("shutting down", seen[^1].Data.GetProperty("reason").GetString());

            var result = await watch;
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"job {job.JobId}: Completed", result.Stdout);
            AssertNoStackTrace(result);
            Assert.Equal(JobState.Completed, (await tenant.GetJobAsync(job.JobId))!.State);
        }
        finally
        {
            if (Directory.Exists(blobRoot)) Directory.Delete(blobRoot, recursive: true);
        }
    }
}
