using ClusterClient;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests;

public class SiloProcessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Two_silo_processes_with_Redis_clustering_and_storage_run_a_job_submitted_by_a_Redis_discovering_client()
    {
        var serviceId = "scm-proc-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        var blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "proc-blobs-" + Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:Storage"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot, ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Scheduler:DefaultItemFrames"] = "4", ["Scheduler:OfferInterval"] = "00:00:00.500",
            ["Tenants:AdminKeyHash"] = adminHash,
        };
        await using var first = SiloProcess.Start("proc-a", settings);
        await using var second = SiloProcess.Start("proc-b", settings);
        try
        {
            // Readiness on the HTTP endpoint means "active member": what Kubernetes routes on.
            await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var options = new ClientConnectionOptions
            {
                Clustering = "Redis", RedisConnectionString = ClusterHarness.RedisConnectionString, ClusterId = serviceId, ServiceId = serviceId,
                CallTimeout = TimeSpan.FromSeconds(20),
            };
            var (host, admin) = await SiloProcess.ConnectWithRetryAsync(options, adminKey);
            using (host)
            {
                var tenantKey = await admin.CreateTenantAsync("proc-tenant");
                var client = new GenerationClient(host.Services.GetRequiredService<IClusterClient>(), options, tenantKey.ApiKey);
                var (jobId, result) = await client.SubmitAsync(new JobSpec
                {
                    Kind = JobKind.Video, ModelId = "tiny", Classes = [2, 5], Frames = 16, Seed = 9, OutputSize = 32,
                });
                Assert.True(result.Accepted, string.Join("; ", result.Errors));
                JobStatus? last = null;
                await foreach (var status in client.WatchAsync(jobId).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token))
                    last = status;
                Assert.Equal(JobState.Completed, last!.State);
                Assert.Equal(16, last.FramesDone);
                var overview = await host.Services.GetRequiredService<IClusterClient>().GetGrain<IClusterApiGrain>(0).Cluster(adminKey);
                Assert.Equal(["proc-a", "proc-b"], overview.Silos.Select(s => s.Name));
                Assert.True(File.Exists(Path.Combine(blobRoot, last.ManifestBlob!)));
                await host.StopAsync();
            }
        }
        catch
        {
            output.WriteLine(File.ReadAllText(first.LogPath));
            output.WriteLine(File.ReadAllText(second.LogPath));
            throw;
        }
        finally
        {
            if (Directory.Exists(blobRoot)) Directory.Delete(blobRoot, recursive: true);
        }
    }
}
