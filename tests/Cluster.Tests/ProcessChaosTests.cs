using System.Diagnostics;
using ClusterClient;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>Real silo processes on 127.0.0.1 with Redis clustering and storage; one is killed with SIGKILL.</summary>
public class ProcessChaosTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Kill_9_of_a_silo_process_mid_job_the_job_completes_with_every_frame_once_and_unchanged_checksums()
    {
        var serviceId = "scm-chaos-" + Guid.NewGuid().ToString("N")[..10];
        var blobRoot = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "chaos-blobs-" + Guid.NewGuid().ToString("N"));
        var admin = ClusterHarness.NewAdminKey();
        // One torch thread per silo: three silo processes share 2 cores, and pipelined workers that each sample
        // without pause on 2 threads starved the silos' own threads until leases expired, and each expiry stalls the
        // scheduler and the coordinator until the response timeout (the expiry timer awaits BatchFailed, which calls Offer).
        var settings = new Dictionary<string, string>
        {
            ["Tenants:AdminKeyHash"] = admin.HashLine,
            ["Cluster:Clustering"] = "Redis", ["Cluster:Storage"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu", ["Devices:MaxBatchFrames"] = "4", ["Devices:CpuThreads"] = "1",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot, ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Cluster:Membership:ProbeTimeout"] = "00:00:01", ["Cluster:Membership:NumMissedProbesLimit"] = "2",
            ["Cluster:Membership:NumVotesForDeathDeclaration"] = "1",
            ["Scheduler:DefaultBatchFrames"] = "2", ["Scheduler:OfferInterval"] = "00:00:00.500", ["Scheduler:LeaseTimeout"] = "00:00:10",
        };
        var total = Stopwatch.StartNew();
        var silos = new[] { SiloProcess.Start("chaos-a", settings), SiloProcess.Start("chaos-b", settings), SiloProcess.Start("chaos-c", settings) };
        try
        {
            var (host, client) = await ConnectAsync(serviceId, admin.ApiKey);
            using (host)
            {
                output.WriteLine($"connected after {total.Elapsed.TotalSeconds:F1} s");
                var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = 600, Seed = 11, OutputSize = 16 };
                var (jobId, result) = await client.SubmitAsync(spec);
                Assert.True(result.Accepted, string.Join("; ", result.Errors));
                JobStatus status;
                do { await Task.Delay(50); status = (await client.GetStatusAsync(jobId))!; } while (status.FramesDone < 60 && !status.IsTerminal);
                Assert.False(status.IsTerminal, "the job finished before a silo could be killed");
                output.WriteLine($"{status.FramesDone} frames after {total.Elapsed.TotalSeconds:F1} s");

                var victim = silos[2];
                var clock = Stopwatch.StartNew();
                victim.Kill();
                output.WriteLine($"SIGKILL to {victim.Name} (pid {victim.Pid}) at {status.FramesDone}/600 frames");
                var done = await UntilTerminalAsync(client, jobId, TimeSpan.FromSeconds(150));
                output.WriteLine($"job {done.State} {clock.Elapsed.TotalSeconds:F1} s after the kill, {done.Retries} retried attempts");
                Assert.Equal(JobState.Completed, done.State);

                var (referenceId, referenceResult) = await client.SubmitAsync(spec);
                Assert.True(referenceResult.Accepted);
                clock.Restart();
                var reference = await UntilTerminalAsync(client, referenceId, TimeSpan.FromSeconds(120));
                output.WriteLine($"reference run (no failure) took {clock.Elapsed.TotalSeconds:F1} s");
                var blobs = new BlobStorage.LocalFolderBlobStore(blobRoot);
                var failed = await ManifestReader.ReadAsync(blobs, done.ManifestBlob!);
                var unfailed = await ManifestReader.ReadAsync(blobs, reference.ManifestBlob!);
                Assert.Equal(Enumerable.Range(0, 600), failed.Select(f => f.Index));
                Assert.Equal(600, failed.Select(f => f.Blob).Distinct().Count());
                Assert.Equal(unfailed.Select(f => f.Sha256), failed.Select(f => f.Sha256));
                await host.StopAsync();
            }
        }
        catch
        {
            foreach (var silo in silos) output.WriteLine($"--- {silo.Name}\n{File.ReadAllText(silo.LogPath)}");
            throw;
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
            if (Directory.Exists(blobRoot)) Directory.Delete(blobRoot, recursive: true);
        }
    }

    static async Task<JobStatus> UntilTerminalAsync(GenerationClient client, string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await client.GetStatusAsync(jobId);
                if (status?.IsTerminal == true) return status;
            }
            catch (Exception e) when (e is TimeoutException or OrleansException) { } // routed to the dead silo before the cluster noticed
            await Task.Delay(200);
        }
        throw new TimeoutException($"job {jobId} did not finish in {timeout}");
    }

    static async Task<(Microsoft.Extensions.Hosting.IHost, GenerationClient)> ConnectAsync(string serviceId, string apiKey)
    {
        var options = new ClientConnectionOptions
        {
            Clustering = "Redis", RedisConnectionString = ClusterHarness.RedisConnectionString, ClusterId = serviceId, ServiceId = serviceId,
            CallTimeout = TimeSpan.FromSeconds(5),
        };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try { return await ClientHost.ConnectAsync(options, apiKey); }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline) { await Task.Delay(500); }
        }
    }
}
