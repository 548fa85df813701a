using System.Diagnostics;
using ClusterClient;
using Grains.Interfaces;
using Grains.Telemetry;

namespace ScmTools;

/// <summary>
/// `scm-tools bench scale` (P4): throughput / ideal and scheduler cost per batch of an in-process cluster of silos
/// serving SIMULATED devices (a configured delay per batch, placeholder frames, no model), per device count.
/// Ideal = devices x frames per batch / simulated batch cost. Each device count gets a fresh cluster, a warm-up
/// job, then the measured jobs: from the first submit until every job is Completed (manifest written).
/// </summary>
public sealed record ScaleBench(
    int[] DeviceCounts, int MaxSilos, int FramesPerBatch, int ItemFrames, TimeSpan BatchDelay, TimeSpan PerFrameDelay,
    double BusySeconds, int JobFrames, string ModelCard)
{
    public const string Section = "## P4 scale by simulation";
    public const double RatioGoal = 0.90, SchedulerMsGoal = 0.5;

    public sealed record Row(int Devices, int Silos, int Jobs, long Frames, double Seconds, double Ideal, double Throughput,
        long Leases, Dictionary<string, (double Seconds, long Calls)> SchedulerCalls, double CpuCores, double GcPauseSeconds, double LoadAverage)
    {
        public double Ratio => Throughput / Ideal;
        /// <summary>The offer, lease and release paths per leased batch; the once-a-second expiry scan is reported apart.</summary>
        /// <summary>Scheduler time per leased batch on the paths a batch takes (offer, lease, release; the expiry scan is periodic).</summary>
        public double SchedulerMsPerBatch => Leases == 0 ? 0
            : 1000 * new[] { SchedulerCall.Offer, SchedulerCall.Lease, SchedulerCall.Release }.Sum(c => SchedulerCalls.GetValueOrDefault(c).Seconds) / Leases;
        /// <summary>CPU of the whole process (all silos, client, bench) per leased batch: the cluster's cost, less sensitive to other load than the ratio.</summary>
        public double CpuMsPerBatch => Leases == 0 ? 0 : 1000 * CpuCores * Seconds / Leases;
    }

    /// <summary>Devices this machine could keep busy if the process had every core: cores x batch cost / CPU per batch.</summary>
    public double DeviceCeiling(Row row) => row.CpuMsPerBatch <= 0 ? double.PositiveInfinity
        : Environment.ProcessorCount * BatchCost.TotalMilliseconds / row.CpuMsPerBatch;

    /// <summary>1-minute load average of the machine (other processes compete for the same cores), or NaN.</summary>
    static double LoadAverage() =>
        double.TryParse(BenchmarkLog.LoadAverage(), System.Globalization.CultureInfo.InvariantCulture, out double load) ? load : double.NaN;

    TimeSpan BatchCost => BatchDelay + PerFrameDelay * FramesPerBatch;

    public void Validate()
    {
        if (DeviceCounts.Length == 0 || DeviceCounts.Any(d => d < 1 || d > 8 * 1024)) throw new CliException("--devices: counts in [1, 8192], e.g. 1,16,64,256.");
        if (MaxSilos is < 1 or > 32) throw new CliException("--silos must be in [1, 32].");
        if (DeviceCounts.Any(d => (d + MaxSilos - 1) / MaxSilos > Grains.Options.SimulatedDeviceOptions.MaxCount))
            throw new CliException($"--devices: at most {Grains.Options.SimulatedDeviceOptions.MaxCount} per silo; raise --silos.");
        if (FramesPerBatch is < 1 or > 4096) throw new CliException("--frames-per-batch must be in [1, 4096].");
        if (ItemFrames < 1 || ItemFrames > FramesPerBatch) throw new CliException("--item-frames must be in [1, --frames-per-batch].");
        if (BatchDelay < TimeSpan.Zero || PerFrameDelay < TimeSpan.Zero || BatchCost <= TimeSpan.Zero)
            throw new CliException("--batch-delay and --per-frame-delay must be >= 0 and not both 0.");
        if (!(BusySeconds > 0)) throw new CliException("--seconds must be > 0.");
        if (JobFrames < ItemFrames) throw new CliException("--job-frames must be >= --item-frames.");
        if (!File.Exists(ModelCard)) throw new CliException($"--model-card: {ModelCard} not found (only its description is read; simulated devices never load weights).");
    }

    public async Task<IReadOnlyList<Row>> RunAsync(TextWriter output, CancellationToken ct)
    {
        Validate();
        output.WriteLine("SIMULATION: every device below is simulated (Devices:Simulated); frames are placeholders, no model runs.");
        output.WriteLine($"batch: {FramesPerBatch} frames ({FramesPerBatch / ItemFrames} item(s) of {ItemFrames}) costing {BatchCost.TotalMilliseconds:F0} ms; " +
                         $"~{BusySeconds:F1} s of work per device; jobs of <= {JobFrames} frames; up to {MaxSilos} silos in this process; " +
                         $"{Environment.ProcessorCount} cores");
        output.WriteLine();
        output.WriteLine("  devices  silos  jobs   frames  seconds   frames/s      ideal  throughput/ideal  sched ms/batch  leases  CPU cores  CPU ms/batch  device ceiling  GC pause s  load avg");
        var rows = new List<Row>();
        foreach (int devices in DeviceCounts)
        {
            var row = await RunOneAsync(devices, ct);
            rows.Add(row);
            output.WriteLine($"  {row.Devices,7}  {row.Silos,5}  {row.Jobs,4}  {row.Frames,7}  {row.Seconds,7:F2}  {row.Throughput,9:F0}  {row.Ideal,9:F0}  " +
                             $"{row.Ratio,16:F3}  {row.SchedulerMsPerBatch,14:F3}  {row.Leases,6}  {row.CpuCores,9:F2}  {row.CpuMsPerBatch,12:F2}  " +
                             $"{DeviceCeiling(row),14:F0}  {row.GcPauseSeconds,10:F2}  {row.LoadAverage,8:F1}");
            output.WriteLine("           scheduler seconds (scm.scheduler.call.duration): " + string.Join(", ",
                new[] { SchedulerCall.Offer, SchedulerCall.Lease, SchedulerCall.Release, SchedulerCall.ExpiryScan }
                    .Select(c => $"{c} {row.SchedulerCalls.GetValueOrDefault(c).Seconds:F3} ({row.SchedulerCalls.GetValueOrDefault(c).Calls} calls)")));
        }
        return rows;
    }

    async Task<Row> RunOneAsync(int devices, CancellationToken ct)
    {
        int silos = Math.Min(MaxSilos, devices);
        int batchesPerDevice = Math.Max(1, (int)Math.Ceiling(BusySeconds / BatchCost.TotalSeconds));
        long totalFrames = (long)devices * batchesPerDevice * FramesPerBatch;
        var blobs = new MemoryBlobStore();
        var (adminKeyId, adminKey, salt, hash) = ApiKeys.Generate();
        var settings = new Dictionary<string, string?>
        {
            ["Devices:MaxLeaseFrames"] = $"{FramesPerBatch}",
            ["Devices:Simulated:BatchDelay"] = BatchDelay.ToString("c"),
            ["Devices:Simulated:PerFrameDelay"] = PerFrameDelay.ToString("c"),
            ["Scheduler:DefaultItemFrames"] = $"{ItemFrames}",
            ["Models:Registry:mnist-scm"] = Path.GetFullPath(ModelCard),
            ["Limits:MaxFrames"] = $"{Math.Max(JobFrames, 10000)}",
            ["Tenants:AdminKeyHash"] = ApiKeys.HashLine(adminKeyId, salt, hash),
        };
        using var calls = new SchedulerCallListener();
        await using var cluster = await SimulatedCluster.StartAsync(silos, devices, settings, blobs, ct);
        var connection = new ClientConnectionOptions { CallTimeout = TimeSpan.FromSeconds(60) };
        var admin = new GenerationClient(cluster.Client, connection, adminKey);
        var key = await admin.CreateTenantAsync("bench", new QuotaPatch
        {
            MaxRunningJobs = 100_000, MaxQueuedFrames = int.MaxValue, MaxFramesPerJob = JobFrames, MaxOutputSize = 1024,
            DeviceSecondsPerDay = 0, FramesPerDay = 0,
        }, cancellationToken: ct);
        var client = new GenerationClient(cluster.Client, connection, key.ApiKey);
        var scheduler = cluster.Client.GetGrain<ISchedulerGrain>(0);

        // Warm-up: one batch per device activates every worker, coordinator path and JIT-compiles the hot code.
        await RunJobsAsync(client, "warmup", devices * FramesPerBatch, ct);
        var before = await scheduler.Snapshot();
        calls.Reset();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var gcBefore = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        int jobs = await RunJobsAsync(client, "run", totalFrames, ct);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        double gcPause = (GC.GetTotalPauseDuration() - gcBefore).TotalSeconds;
        var after = await scheduler.Snapshot();
        double ideal = devices * FramesPerBatch / BatchCost.TotalSeconds;
        return new Row(devices, silos, jobs, totalFrames, seconds, ideal, totalFrames / seconds,
            after.LeasesGranted - before.LeasesGranted, calls.Totals(), cpu / seconds, gcPause, LoadAverage());
    }

    /// <summary>Submits <paramref name="frames"/> frames as jobs of at most JobFrames and waits until all completed.</summary>
    async Task<int> RunJobsAsync(GenerationClient client, string name, long frames, CancellationToken ct)
    {
        var ids = new List<string>();
        for (long first = 0, n = 0; first < frames; first += JobFrames, n++)
        {
            var spec = new JobSpec
            {
                Kind = JobKind.ImageSet, ModelId = "mnist-scm", Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Frames = (int)Math.Min(JobFrames, frames - first),
                Steps = 1, OutputSize = 32, Seed = (ulong)n, ItemFrames = ItemFrames,
            };
            var (jobId, result) = await client.SubmitAsync(spec, $"{name}-{n:D4}", ct);
            if (!result.Accepted) throw new CliException($"bench job {jobId} rejected: {string.Join("; ", result.Errors)}");
            ids.Add(jobId);
        }
        // Jobs finish roughly in submission order: poll the oldest unfinished one only, to load the cluster little.
        var pending = new Queue<string>(ids);
        while (pending.Count > 0)
        {
            var status = await client.GetStatusAsync(pending.Peek(), ct) ?? throw new CliException($"bench job {pending.Peek()} vanished");
            if (!status.IsTerminal)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), ct);
                continue;
            }
            if (status.State != JobState.Completed) throw new CliException($"bench job {status.JobId} ended {status.State}: {status.Error}");
            if (status.DeviceKinds is not [DeviceKinds.Simulated])
                throw new CliException($"bench job {status.JobId} was made on {string.Join(", ", status.DeviceKinds)}, " +
                    "not only simulated devices; is a real device in the cluster?");
            pending.Dequeue();
        }
        return ids.Count;
    }
}
