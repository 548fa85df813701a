using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using BlobStorage;
using ClusterClient;
using Grains.Interfaces;

namespace ScmTools;

/// <summary>
/// `scm-tools bench host` (issue 12, the CPU proxy of a GPU node's host side): one silo whose only device is SIMULATED
/// and hands out model-shaped 32x32 images at (near) zero cost, so everything measured is what the host does per
/// frame at GPU speed: PNG encoding at the job's size, SHA-256, local-folder blob writes, per-item reports, the
/// coordinator's bookkeeping and the manifest. Reports frames/s and frames per CPU-second of the whole process
/// ("per core"): the latter is what a node needs to keep up with its GPU (a 16-core node that must absorb 10,000
/// frames/s needs >= 625 per core-second; the goal is 2,000 at 64 px).
/// </summary>
sealed record HostBench(int[] Sizes, int Frames, int LeaseFrames, int ItemFrames, string BlobRoot, string ModelCard, string Report, string CommandLine)
{
    public const string Section = "## Host side per frame (CPU proxy for a GPU node)";
    public const double Goal = 2000;
    static readonly string[] Columns = ["date", "machine", "load avg (start, end)", "frames, png size, blob root", "lease / item frames", "frames/s",
        "CPU cores busy", "frames per CPU-second (goal >= 2,000 at 64 px)", "command"];

    public static Command Command()
    {
        var command = new Command("host", "SIMULATION (CPU proxy): host-side frames/s and frames per CPU-second when the device costs nothing (PNG, SHA-256, blob writes, reports).");
        var sizes = new Option<string>("--sizes") { Description = "Comma-separated PNG sizes; one run each.", DefaultValueFactory = _ => "64,256" };
        var frames = new Option<int>("--frames") { Description = "Frames of the measured job.", DefaultValueFactory = _ => 10_000 };
        var lease = new Option<int>("--lease-frames") { Description = "Frames per lease (a GPU worker's lease size).", DefaultValueFactory = _ => 2048 };
        var item = new Option<int>("--item-frames") { Description = "Frames per work item.", DefaultValueFactory = _ => 64 };
        var blobRoot = new Option<string>("--blob-root")
        {
            Description = "Folder of the local blob store (default: under /dev/shm where it exists: the host's CPU, not this machine's disk, is measured).",
            DefaultValueFactory = _ => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(),
        };
        var model = new Option<string>("--model-card") { Description = "Model card the job names (only read for validation).", DefaultValueFactory = _ => BenchCommands.DefaultModel };
        var report = BenchmarkLog.ReportOption();
        foreach (var o in new Option[] { sizes, frames, lease, item, blobRoot, model, report }) command.Options.Add(o);
        command.SetAction((r, ct) => CliExit.RunAsync(async () =>
        {
            string commandLine = "scm-tools " + string.Join(' ', r.Tokens.Select(t => t.Value));
            var bench = new HostBench(BenchCommands.ParseBatchSizes(r.GetValue(sizes)!), r.GetValue(frames), r.GetValue(lease), r.GetValue(item), r.GetValue(blobRoot)!,
                r.GetValue(model)!, r.GetValue(report)!, commandLine);
            await bench.RunAsync(Console.Out, ct);
        }, r.InvocationConfiguration.Error));
        return command;
    }

    public async Task<IReadOnlyList<double>> RunAsync(TextWriter output, CancellationToken ct)
    {
        if (Frames is < 1 or > 1_000_000) throw new CliException($"--frames must be in [1, 1000000]; got {Frames}.");
        if (LeaseFrames < ItemFrames) throw new CliException("--lease-frames must be >= --item-frames.");
        if (Sizes.Any(s => s is < 8 or > 1024)) throw new CliException("--sizes: each must be in [8, 1024].");
        output.WriteLine($"SIMULATION: the device hands out model-shaped images at no cost; measured is the host side only ({Environment.ProcessorCount} cores; blobs under {BlobRoot}).");
        var perCpuSecond = new List<double>();
        foreach (int size in Sizes)
        {
            var (framesPerSecond, cores, perCpu, load) = await RunOneAsync(size, ct);
            output.WriteLine($"  {size,4} px: {Frames} frames, {framesPerSecond:F0} frames/s, {cores:F2} CPU cores busy, {perCpu:F0} frames per CPU-second");
            var where = BenchmarkLog.AppendRowIfWanted(Report, Section, Columns,
            [
                DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), BenchmarkLog.Machine(), load, $"{Frames}, {size} px, {BlobRoot}", $"{LeaseFrames} / {ItemFrames}",
                $"{framesPerSecond:F0}", $"{cores:F2}", $"{perCpu:F0}", $"`{CommandLine}`",
            ]);
            if (where is not null) output.WriteLine($"  row appended to {where}");
            perCpuSecond.Add(perCpu);
        }
        int at64 = Array.IndexOf(Sizes, 64);
        if (at64 >= 0)
            output.WriteLine($"frames per CPU-second at 64 px: {perCpuSecond[at64]:F0}; goal >= {Goal:F0}: {(perCpuSecond[at64] >= Goal ? "met" : "NOT met")}");
        return perCpuSecond;
    }

    async Task<(double FramesPerSecond, double Cores, double PerCpuSecond, string Load)> RunOneAsync(int size, CancellationToken ct)
    {
        string root = Path.Combine(BlobRoot, "scm-bench-host-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (adminKeyId, adminKey, salt, hash) = ApiKeys.Generate();
            var settings = new Dictionary<string, string?>
            {
                // One torch thread: encoding is parallel per frame already, and idle OpenMP workers spin on a busy host.
                ["Devices:Simulated:Output"] = "Images", ["Devices:Simulated:BatchDelay"] = "00:00:00.001", ["Devices:CpuThreads"] = "1",
                ["Devices:MaxLeaseFrames"] = $"{LeaseFrames}", ["Models:Registry:mnist-scm"] = Path.GetFullPath(ModelCard),
                ["Limits:MaxFrames"] = $"{Math.Max(Frames, 10_000)}", ["Limits:MaxItemFrames"] = $"{Math.Max(ItemFrames, 256)}",
                ["Tenants:AdminKeyHash"] = ApiKeys.HashLine(adminKeyId, salt, hash),
            };
            await using var cluster = await SimulatedCluster.StartAsync(1, 1, settings, new LocalFolderBlobStore(root), ct);
            var connection = new ClientConnectionOptions { CallTimeout = TimeSpan.FromSeconds(60) };
            var admin = new GenerationClient(cluster.Client, connection, adminKey);
            var key = await admin.CreateTenantAsync("bench", new QuotaPatch
            {
                MaxRunningJobs = 100, MaxQueuedFrames = int.MaxValue, MaxFramesPerJob = Frames, MaxOutputSize = 1024, DeviceSecondsPerDay = 0, FramesPerDay = 0,
            }, cancellationToken: ct);
            var client = new GenerationClient(cluster.Client, connection, key.ApiKey);

            // A warmup as long as the measured job: after a shorter one (2 leases) the runtime was still tiering up the
            // per-frame path, and its JIT took ~15 % of the measured CPU at 64 px (a node that runs for hours pays it once).
            await RunJobAsync(client, "warmup", Frames, size, ct);
            string loadBefore = BenchmarkLog.LoadAverage();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await RunJobAsync(client, "run", Frames, size, ct);
            double seconds = clock.Elapsed.TotalSeconds;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            return (Frames / seconds, cpu / seconds, Frames / cpu, $"{loadBefore}, {BenchmarkLog.LoadAverage()}");
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    async Task RunJobAsync(GenerationClient client, string name, int frames, int size, CancellationToken ct)
    {
        var spec = new JobSpec
        {
            Kind = JobKind.ImageSet, ModelId = "mnist-scm", Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = frames, Steps = 1,
            OutputSize = size, Seed = 1, ItemFrames = ItemFrames,
        };
        var (jobId, result) = await client.SubmitAsync(spec, $"{name}-{size}", ct);
        if (!result.Accepted) throw new CliException($"bench job {jobId} rejected: {string.Join("; ", result.Errors)}");
        while (true)
        {
            var status = await client.GetStatusAsync(jobId, ct) ?? throw new CliException($"bench job {jobId} vanished");
            if (status.IsTerminal)
            {
                if (status.State != JobState.Completed) throw new CliException($"bench job {jobId} ended {status.State}: {status.Error}");
                if (status.DeviceKinds is not [DeviceKinds.Simulated])
                    throw new CliException($"bench job {jobId} was made on {string.Join(", ", status.DeviceKinds)}, " +
                        "not only simulated devices; is a real device in the cluster?");
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), ct);
        }
    }

}
