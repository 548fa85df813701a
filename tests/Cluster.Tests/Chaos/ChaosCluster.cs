using System.Diagnostics;
using System.Globalization;
using BlobStorage;
using ClusterClient;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Cluster.Tests.Chaos;

/// <summary>
/// Three (by default) real silo processes with Redis clustering, Redis grain storage and reminders, and an Azure blob
/// store, on a private redis-server and a private Azurite that the test may kill and restart. Everything it starts is
/// stopped by pid on dispose, also when start-up fails half-way.
/// </summary>
internal sealed class ChaosCluster : IAsyncDisposable
{
    static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);
    readonly ITestOutputHelper output;
    readonly List<SiloProcess> silos = [];
    readonly Dictionary<string, string> settings;
    IHost? clientHost;

    ChaosCluster(ITestOutputHelper output, RedisServerProcess redis, AzuriteProcess azurite, string serviceId, (string ApiKey, string HashLine) admin,
        IReadOnlyDictionary<string, string>? extraSettings)
    {
        this.output = output;
        Redis = redis;
        Azurite = azurite;
        ServiceId = serviceId;
        AdminKey = admin.ApiKey;
        var container = "chaos-" + Guid.NewGuid().ToString("N")[..12];
        settings = new Dictionary<string, string>
        {
            ["Tenants:AdminKeyHash"] = admin.HashLine,
            ["Cluster:Clustering"] = "Redis", ["Cluster:Storage"] = "Redis", ["Cluster:RedisConnectionString"] = redis.ConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId,
            // One CPU worker per silo, one torch thread each: three silos share two cores without oversubscribing them, and
            // the reference checksums are computed at the same thread count (frame bits depend on it).
            ["Devices:Devices"] = "cpu",
            ["Devices:MaxLeaseFrames"] = "4",
            ["Devices:CpuThreads"] = ReferenceFrames.Threads.ToString(CultureInfo.InvariantCulture),
            ["Blob:Provider"] = "Azure",
            ["Blob:AzureConnectionString"] = azurite.ConnectionString,
            ["Blob:Container"] = container,
            ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Scheduler:DefaultItemFrames"] = "4", ["Scheduler:OfferInterval"] = "00:00:00.500",
        };
        // Test-speed failure detection (~1.5-3 s instead of Orleans' ~12 s default) unless a run asks for another profile.
        foreach (var (key, value) in FailureDetection.Settings()) settings[key] = value;
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>()) settings[key] = value;
        Blobs = new AzureBlobStore(azurite.ConnectionString, container);
    }

    public RedisServerProcess Redis { get; }
    public AzuriteProcess Azurite { get; }
    public IBlobStore Blobs { get; }
    public string ServiceId { get; }
    public string AdminKey { get; }
    public IReadOnlyList<SiloProcess> Silos => silos;
    public GenerationClient Admin { get; private set; } = null!;
    public IClusterClient Client { get; private set; } = null!;
    /// <summary>Set by a failing test: the silo logs stay in the temp folder for a post-mortem.</summary>
    public bool KeepLogs { get; set; } = Environment.GetEnvironmentVariable("SCM_CHAOS_KEEP_LOGS") == "1";

    /// <param name="extraSettings">Silo settings on top of the chaos defaults (e.g. simulated devices, log levels).</param>
    public static async Task<ChaosCluster> StartAsync(ITestOutputHelper output, int siloCount = 3, IReadOnlyDictionary<string, string>? extraSettings = null,
        CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        RedisServerProcess? redis = null;
        AzuriteProcess? azurite = null;
        ChaosCluster? cluster = null;
        try
        {
            redis = await RedisServerProcess.StartAsync(cancellationToken);
            azurite = await AzuriteProcess.StartAsync();
            var serviceId = "scm-chaos-" + Guid.NewGuid().ToString("N")[..10];
            cluster = new ChaosCluster(output, redis, azurite, serviceId, ClusterHarness.NewAdminKey(), extraSettings);
            for (int i = 0; i < siloCount; i++) cluster.silos.Add(SiloProcess.Start($"chaos-{(char)('a' + i)}", cluster.settings));
            await Task.WhenAll(cluster.silos.Select(s => s.WaitUntilReadyAsync(ReadyTimeout)));
            await cluster.ConnectAsync(cancellationToken);
            foreach (var silo in cluster.silos) output.WriteLine($"{silo.Name} log: {silo.LogPath}");
            output.WriteLine($"failure detection: {FailureDetection.Describe()}");
            output.WriteLine($"own redis-server pid {redis.Pid} port {redis.Port}, own Azurite pid {azurite.Pid} port {azurite.Port}, " +
                $"silos {string.Join(", ", cluster.silos.Select(s => $"{s.Name} pid {s.Pid}"))}: ready after {clock.Elapsed.TotalSeconds:F1} s");
            return cluster;
        }
        catch
        {
            if (cluster is not null)
            {
                cluster.DumpLogs();
                await cluster.DisposeAsync();
            }
            else
            {
                if (azurite is not null) await azurite.DisposeAsync();
                if (redis is not null) await redis.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>A client of the public API with another tenant's key, on this cluster's connection.</summary>
    public GenerationClient Api(string apiKey) => new(Client, ClientOptions, apiKey);

    /// <summary>
    /// Submits <paramref name="spec"/> and waits until a tenth of its frames are stored: where every chaos test injects
    /// its fault. Fails if the job ends before that (the fault would then hit nothing).
    /// </summary>
    public static async Task<(string JobId, JobStatus Before)> SubmitAndRunToMidJobAsync(GenerationClient api, JobSpec spec, string fault,
        CancellationToken cancellationToken)
    {
        var (jobId, result) = await api.SubmitAsync(spec, cancellationToken: cancellationToken);
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        var before = await WaitForAsync(api, jobId, s => s.FramesDone >= spec.Frames / 10 || s.IsTerminal, TimeSpan.FromMinutes(3), cancellationToken);
        Assert.False(before.IsTerminal, $"the job finished before {fault}");
        return (jobId, before);
    }

    /// <summary>Polls (each call with a short deadline) until the job satisfies <paramref name="until"/>.</summary>
    public static async Task<JobStatus> WaitForAsync(GenerationClient api, string jobId, Func<JobStatus, bool> until, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        JobStatus? last = null;
        while (deadline.Elapsed < timeout)
        {
            last = await TryStatusAsync(api, jobId, cancellationToken: cancellationToken) ?? last;
            if (last is not null && until(last)) return last;
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException($"job {jobId}: condition not met within {timeout}; last status: {last}");
    }

    /// <summary>Null while the call cannot be answered (routed to a dead silo, or storage is down).</summary>
    public static async Task<JobStatus?> TryStatusAsync(GenerationClient api, string jobId, Action<Exception>? onError = null,
        CancellationToken cancellationToken = default)
    {
        try { return await api.GetStatusAsync(jobId, cancellationToken); }
        catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
        {
            onError?.Invoke(e);
            return null;
        }
    }

    /// <summary>Whether the cluster's membership table has declared the named silo dead.</summary>
    public async Task<bool> IsDeclaredDeadAsync(string siloName)
    {
        try
        {
            // Through the API grain (the management grain is internal): a silo that was active and is no longer listed
            // among the active ones has been declared dead.
            var view = await Client.GetGrain<IClusterApiGrain>(0).Cluster(AdminKey).WaitAsync(TimeSpan.FromSeconds(3));
            return view.Silos.All(s => s.Name != siloName);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException) { return false; }
    }

    /// <summary>Every line of the silos' logs that contains <paramref name="text"/>.</summary>
    public IEnumerable<string> LogLines(string text) =>
        silos.SelectMany(s => ReadShared(s.LogPath).Where(line => line.Contains(text, StringComparison.Ordinal)));

    public void DumpLogs()
    {
        foreach (var silo in silos)
        {
            var lines = ReadShared(silo.LogPath);
            output.WriteLine($"--- {silo.Name} (pid {silo.Pid}), last {Math.Min(lines.Count, 150)} of {lines.Count} log lines");
            foreach (var line in lines.TakeLast(150)) output.WriteLine(line);
        }
    }

    ClientConnectionOptions ClientOptions => new()
    {
        Clustering = "Redis", RedisConnectionString = Redis.ConnectionString, ClusterId = ServiceId, ServiceId = ServiceId,
        CallTimeout = TimeSpan.FromSeconds(5),
    };

    async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                (clientHost, Admin) = await ClientHost.ConnectAsync(ClientOptions, AdminKey, cancellationToken);
                Client = clientHost.Services.GetRequiredService<IClusterClient>();
                return;
            }
            catch (InvalidOperationException) when (deadline.Elapsed < TimeSpan.FromSeconds(60)) { await Task.Delay(500, cancellationToken); }
        }
    }

    static List<string> ReadShared(string path)
    {
        if (!File.Exists(path)) return [];
        // The silo process (or our log pump) may still be writing the file.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }

    public async ValueTask DisposeAsync()
    {
        if (clientHost is not null)
        {
            // A client whose gateways are gone can take long to stop; it holds no process of ours, so bound the wait.
            try { await clientHost.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token); }
            catch (Exception e) when (e is OperationCanceledException or OrleansException or TimeoutException) { }
            clientHost.Dispose();
        }
        foreach (var silo in silos) await silo.DisposeAsync();
        await Azurite.DisposeAsync();
        await Redis.DisposeAsync();
        if (KeepLogs) return;
        foreach (var silo in silos)
        {
            try { File.Delete(silo.LogPath); } catch (IOException) { }
        }
    }
}
