using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using BlobStorage;
using ClusterClient;
using Grains.Hosting;
using Grains.Interfaces;
using Grains.Jobs;
using Grains.Models;
using Grains.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scm.Images;

namespace ScmTools;

/// <summary>One timed run: frames rendered, wall seconds, the part of it the sampler was busy, and (cluster) submit to first lease.</summary>
sealed record BenchRun(string Path, int Frames, double Seconds, double SamplingSeconds, double StartSeconds = 0)
{
    /// <summary>CPU time of the whole process during the run (every thread: torch, encoding, Orleans).</summary>
    public double CpuSeconds { get; init; }
    /// <summary>Direct path only: PNG encoding, and hashing + writing (each file is flushed to disk before its rename).</summary>
    public double EncodeSeconds { get; init; }
    public double WriteSeconds { get; init; }
    public double FramesPerSecond => Frames / Seconds;
}

/// <summary>
/// How the bench's silo is set up. <paramref name="LeaseFrames"/> null = the device kind's lease size
/// (Devices:Cpu / Devices:Cuda), as a production silo on that device would lease. <paramref name="Kind"/> null = the
/// kind's production chunk and lease; else they replace that kind's settings. <paramref name="BlobRoot"/> null = the
/// temp folder.
/// </summary>
sealed record ClusterBenchSetup(string ModelCard, string Device, int? LeaseFrames, int MaxFrames, int MaxItemFrames, int OutputSize, string? BlobRoot = null,
    DeviceKindOptions? Kind = null);

/// <summary>
/// The two paths P2 compares, in one process: a one-silo cluster hosted here (localhost clustering, memory state,
/// a local-folder blob store in a temp dir, one worker on the bench's device), and the same model object called
/// directly. Both use the worker's <see cref="LoadedModel"/> (same network, same compute chunk), so they render the
/// same bits.
/// </summary>
sealed class ClusterBenchHost : IAsyncDisposable
{
    public const string ModelId = "bench";
    const string Tenant = "bench";
    readonly IHost host;
    readonly string root;
    readonly GenerationClient client;
    readonly LoadedModel model;
    int jobs;

    ClusterBenchHost(IHost host, string root, GenerationClient client, LoadedModel model)
    {
        this.host = host;
        this.root = root;
        this.client = client;
        this.model = model;
    }

    public LoadedModel Model => model;

    public static async Task<ClusterBenchHost> StartAsync(ClusterBenchSetup setup, CancellationToken ct)
    {
        var root = Path.Combine(setup.BlobRoot ?? Path.GetTempPath(), "scm-bench-cluster-" + Guid.NewGuid().ToString("N")[..8]);
        int maxFrames = Math.Max(setup.MaxFrames, new JobLimits().MaxFrames);
        var (adminKeyId, adminKey, salt, hash) = ApiKeys.Generate();
        // Free ports: other benches or test clusters may run on this machine at the same time.
        var ports = SimulatedCluster.FreePorts(2);
        int siloPort = ports[0], gatewayPort = ports[1];
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:SiloName"] = "bench", ["Cluster:SiloPort"] = $"{siloPort}", ["Cluster:GatewayPort"] = $"{gatewayPort}",
            ["Cluster:PrimarySiloPort"] = $"{siloPort}", ["Cluster:ServiceId"] = "scm-bench", ["Cluster:ClusterId"] = "bench-" + Guid.NewGuid().ToString("N")[..8],
            ["Devices:Devices"] = setup.Device,
            ["Limits:MaxFrames"] = $"{maxFrames}", ["Limits:MaxItemFrames"] = $"{Math.Max(setup.MaxItemFrames, new JobLimits().MaxItemFrames)}",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = Path.Combine(root, "cluster"),
            [$"Models:Registry:{ModelId}"] = Path.GetFullPath(setup.ModelCard),
            ["Tenants:AdminKeyHash"] = ApiKeys.HashLine(adminKeyId, salt, hash),
        };
        if (setup.LeaseFrames is { } lease) settings["Devices:MaxLeaseFrames"] = $"{lease}";
        if (setup.Kind is { } kind)
        {
            string section = $"{DeviceOptions.Section}:{(DeviceKinds.Of(setup.Device) == DeviceKinds.Cuda ? nameof(DeviceOptions.Cuda) : nameof(DeviceOptions.Cpu))}";
            settings[$"{section}:{nameof(DeviceKindOptions.ComputeChunk)}"] = $"{kind.ComputeChunk}";
            settings[$"{section}:{nameof(DeviceKindOptions.LeaseFrames)}"] = $"{kind.LeaseFrames}";
            settings[$"{section}:{nameof(DeviceKindOptions.Precision)}"] = $"{kind.Precision}";
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        // No default configuration sources (appsettings, SCM_ variables): the bench runs on exactly the settings above.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Errors only: Orleans warns about ServerGC and a first watchdog check, neither of which matters here.
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Error);
        builder.Services.AddBlobStore(configuration.GetSection("Blob"));
        builder.UseOrleans(silo => silo.UseConfiguredClustering(configuration).AddGenerationCluster(configuration));
        var host = builder.Build();
        await host.StartAsync(ct);
        var connection = new ClientConnectionOptions { CallTimeout = TimeSpan.FromSeconds(30) };
        var cluster = host.Services.GetRequiredService<IClusterClient>();
        var admin = new GenerationClient(cluster, connection, adminKey);
        var key = await admin.CreateTenantAsync(Tenant, new QuotaPatch
        {
            MaxFramesPerJob = maxFrames, MaxQueuedFrames = maxFrames, MaxOutputSize = setup.OutputSize, DeviceSecondsPerDay = 0, FramesPerDay = 0,
        }, cancellationToken: ct);
        var model = await host.Services.GetRequiredService<ModelCache>().GetAsync(ModelId, setup.Device, ct);
        return new ClusterBenchHost(host, root, new GenerationClient(cluster, connection, key.ApiKey), model);
    }

    public static JobSpec Spec(int frames, int itemFrames, int steps, int outputSize) => new()
    {
        Kind = JobKind.ImageSet, ModelId = ModelId, Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = frames, Seed = 6,
        Steps = steps, OutputSize = outputSize, ItemFrames = itemFrames, Resize = "bilinear",
    };

    /// <summary>
    /// Submit to Completed. The end is the coordinator's CompletedAt (same process, same clock), so the status
    /// polling needs no tight loop: at 2 cores, polling every few ms would itself steal time from the sampler.
    /// </summary>
    public async Task<(BenchRun Run, JobManifest Manifest)> RunClusterAsync(JobSpec spec, CancellationToken ct)
    {
        string jobId = $"p2-{++jobs}";
        var cpu = ProcessCpuSeconds();
        var submitted = DateTime.UtcNow;
        var (_, result) = await client.SubmitAsync(spec, jobId, ct);
        if (!result.Accepted) throw new CliException($"bench job rejected: {string.Join("; ", result.Errors)}");
        JobStatus? status;
        while (true)
        {
            status = await client.GetStatusAsync(jobId, ct);
            if (status?.IsTerminal == true) break;
            await Task.Delay(50, ct);
        }
        if (status.State != JobState.Completed) throw new CliException($"bench job {jobId} ended {status.State}: {status.Error}");
        double seconds = (status.CompletedAt!.Value - submitted).TotalSeconds;
        double startup = ((status.StartedAt ?? submitted) - submitted).TotalSeconds;
        cpu = ProcessCpuSeconds() - cpu;
        var blobs = host.Services.GetRequiredService<IBlobStore>();
        var bytes = await blobs.GetAsync(status.ManifestBlob!, ct) ?? throw new CliException($"bench job {jobId}: manifest missing");
        var manifest = JsonSerializer.Deserialize<JobManifest>(bytes, ManifestWriter.JsonOptions)!;
        return (new BenchRun("cluster", spec.Frames, seconds, status.DeviceSeconds, startup) { CpuSeconds = cpu }, manifest);
    }

    /// <summary>
    /// The in-process baseline: sample each batch of B frames, encode the PNGs, hash them and write them to a local
    /// folder (the same blob store class the cluster uses), one batch after the other, as a plain program would.
    /// </summary>
    public async Task<(BenchRun Run, string[] Sha256)> RunDirectAsync(JobSpec spec, CancellationToken ct)
    {
        var store = new LocalFolderBlobStore(Path.Combine(root, "direct"));
        int numClasses = model.Card.Network.NumClasses;
        var schedule = FramePlanner.Schedule(spec);
        var hashes = new string[spec.Frames];
        var device = TorchSharp.torch.device(model.Device);
        double sampling = 0, encoding = 0, writing = 0;
        var cpu = ProcessCpuSeconds();
        var clock = Stopwatch.StartNew();
        await model.Gate.WaitAsync(ct);
        try
        {
            foreach (var (first, count) in FramePlanner.Shard(spec.Frames, spec.ItemFrames!.Value))
            {
                var (pngs, seconds, encodeSeconds) = await Task.Run(() =>
                {
                    var specs = Enumerable.Range(first, count).Select(f => FramePlanner.Frame(spec, f, numClasses)).ToList();
                    long start = Stopwatch.GetTimestamp();
                    using var batch = model.Sampler.Sample(specs, schedule, ct);
                    Measure.Synchronize(device);
                    double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    start = Stopwatch.GetTimestamp();
                    var encoded = PngEncoder.EncodeBatch(batch, spec.OutputSize, ResizeFilter.Bilinear);
                    return (encoded, s, Stopwatch.GetElapsedTime(start).TotalSeconds);
                }, ct);
                sampling += seconds;
                encoding += encodeSeconds;
                long writeStart = Stopwatch.GetTimestamp();
                await Task.WhenAll(pngs.Select(async (png, k) =>
                {
                    hashes[first + k] = Convert.ToHexStringLower(SHA256.HashData(png));
                    await store.PutAsync($"direct/frames/{first + k:D6}.png", png, "image/png", ct);
                }));
                writing += Stopwatch.GetElapsedTime(writeStart).TotalSeconds;
            }
        }
        finally { model.Gate.Release(); }
        double wall = clock.Elapsed.TotalSeconds;
        return (new BenchRun("direct", spec.Frames, wall, sampling) { CpuSeconds = ProcessCpuSeconds() - cpu, EncodeSeconds = encoding, WriteSeconds = writing }, hashes);
    }

    static double ProcessCpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(CancellationToken.None);
        host.Dispose();
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
