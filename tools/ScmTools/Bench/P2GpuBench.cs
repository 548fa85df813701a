using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grains.Interfaces;
using Grains.Jobs;
using Grains.Models;
using Grains.Options;
using Scm.Sampling;

namespace ScmTools;

/// <summary>
/// `scm-tools bench p2-gpu` (issue 12): P2-GPU = frames/s of a video job through a one-silo cluster whose worker is
/// pinned to the device with that kind's production work sizes (Devices:Cuda: compute chunk 512, lease 2048; the
/// job's items at the cluster default), PNG encoding, SHA-256 and local-folder blob writes included, divided by the
/// best images/s of the same network sampled directly on the same device (sampling only, no PNG) over a few batch
/// sizes from the compute chunk up. The denominator is what the device can do, so the ratio is the share of it the
/// cluster delivers. It runs on a CPU too (small sizes: the smoke test), where it says little: there the network,
/// not the host, is the bottleneck. `--precision` runs the worker's network (and so the direct sampling, the same
/// network object) in that dtype (Devices:Cuda:Precision).
/// </summary>
sealed record P2GpuBench(string ModelCard, string Device, int Frames, int OutputSize, int Steps, int[]? BatchSizes, int Rounds, int? ItemFrames,
    string BlobRoot, string Report, string CommandLine, int? ComputeChunk = null, int? LeaseFrames = null,
    Scm.Network.NetworkPrecision Precision = Scm.Network.NetworkPrecision.Float32)
{
    public const string Section = "## P2-GPU: cluster frames/s / best direct images/s on the same device";
    public const double Goal = 0.80;
    static readonly string[] Columns = ["date", "machine", "device, chunk / lease / item frames", "video frames, png size, steps", "direct images/s by batch (best of rounds)",
        "cluster frames/s", "ratio (goal >= 0.80)", "command"];
    /// <summary>Direct sampling batch sizes, in multiples of the device kind's compute chunk.</summary>
    static readonly int[] BatchMultiples = [1, 2, 4, 8];

    public static Command Command()
    {
        var command = new Command("p2-gpu",
            "Cluster overhead on a GPU: frames/s of a video job through a 1-silo cluster pinned to --device (that kind's chunk and lease, " +
            "PNG, local blobs) / the best images/s of direct sampling on the same device.");
        var model = new Option<string>("--model") { Description = "Model card.", DefaultValueFactory = _ => BenchCommands.DefaultModel };
        var device = BenchCommands.DeviceOption();
        var frames = new Option<int>("--frames")
        {
            Description = "Frames of the timed video job (at least 10,000 for a representative measurement).",
            DefaultValueFactory = _ => 10_000
        };
        var size = new Option<int>("--size") { Description = "PNG size in pixels.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Consistency steps.", DefaultValueFactory = _ => 2 };
        var batchSizes = new Option<string?>("--batch-sizes")
        {
            Description = "Comma-separated direct sampling batch sizes, each one network call " +
                          "(default: the kind's compute chunk x 1, 2, 4, 8, at most 4096)."
        };
        var rounds = new Option<int>("--rounds") { Description = "Timed direct calls per batch size; the best counts.", DefaultValueFactory = _ => 5 };
        var itemFrames = new Option<int?>("--item-frames") { Description = "Frames per work item of the job (default: the cluster's, Scheduler:DefaultItemFrames)." };
        var blobRoot = new Option<string>("--blob-root")
        {
            Description = "Folder of the local blob store (default: under /dev/shm where it exists, so the host's CPU and not its disk is measured).",
            DefaultValueFactory = _ => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(),
        };
        var chunk = new Option<int?>("--compute-chunk") { Description = "The worker's compute chunk (default: the device kind's, Devices:Cuda:ComputeChunk or Devices:Cpu:ComputeChunk)." };
        var lease = new Option<int?>("--lease-frames") { Description = "The worker's lease size (default: the device kind's, raised to the chunk if smaller)." };
        var report = BenchmarkLog.ReportOption();
        var precision = BenchCommands.PrecisionOption();
        foreach (var o in new Option[] { model, device, frames, size, steps, batchSizes, rounds, itemFrames, blobRoot, chunk, lease, precision, report })
            command.Options.Add(o);
        command.SetAction((r, ct) => CliExit.RunAsync(async () =>
        {
            string commandLine = "scm-tools " + string.Join(' ', r.Tokens.Select(t => t.Value));
            var sizes = r.GetValue(batchSizes) is { } list ? BenchCommands.ParseList(list, "--batch-sizes", DeviceKindOptions.MaxComputeChunk) : null;
            var bench = new P2GpuBench(r.GetValue(model)!, r.GetValue(device)!, r.GetValue(frames), r.GetValue(size), r.GetValue(steps), sizes, r.GetValue(rounds),
                r.GetValue(itemFrames), r.GetValue(blobRoot)!, r.GetValue(report)!, commandLine, r.GetValue(chunk), r.GetValue(lease),
                r.GetValue(precision));
            await bench.RunAsync(r.InvocationConfiguration.Output, ct);
        }, r.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs both measurements and returns the ratio (also printed last).</summary>
    public async Task<double> RunAsync(TextWriter output, CancellationToken ct)
    {
        if (Frames is < 1 or > 1_000_000) throw new CliException($"--frames must be in [1, 1000000]; got {Frames}.");
        if (OutputSize is < 8 or > 1024) throw new CliException($"--size must be in [8, 1024]; got {OutputSize}.");
        if (Steps < 1) throw new CliException("--steps must be >= 1.");
        if (Rounds < 1) throw new CliException("--rounds must be >= 1.");
        if (ItemFrames is < 1 or > DeviceKindOptions.MaxLeaseFrames) throw new CliException($"--item-frames must be in [1, {DeviceKindOptions.MaxLeaseFrames}].");
        if (!File.Exists(ModelCard)) throw new CliException($"--model: '{ModelCard}' not found.");
        var device = BenchCommands.ParseDevice(Device);
        var production = new DeviceOptions().KindOf(Device);
        var kind = new DeviceKindOptions
        {
            ComputeChunk = ComputeChunk ?? production.ComputeChunk, LeaseFrames = LeaseFrames ?? Math.Max(production.LeaseFrames, ComputeChunk ?? 0),
            Precision = Precision,
        };
        if (kind.ComputeChunk is < 1 or > DeviceKindOptions.MaxComputeChunk)
            throw new CliException($"--compute-chunk must be in [1, {DeviceKindOptions.MaxComputeChunk}]; got {kind.ComputeChunk}.");
        if (kind.LeaseFrames is < 1 or > DeviceKindOptions.MaxLeaseFrames)
            throw new CliException($"--lease-frames must be in [1, {DeviceKindOptions.MaxLeaseFrames}]; got {kind.LeaseFrames}.");
        int[] batches = BatchSizes ?? [.. BatchMultiples.Select(m => Math.Min(m * kind.ComputeChunk, DeviceKindOptions.MaxComputeChunk)).Distinct()];
        string loadBefore = BenchmarkLog.LoadAverage();

        output.WriteLine($"P2-GPU on {Device} ({Precision}): a {Frames}-frame video job at {OutputSize}x{OutputSize} PNG, {Steps} step(s), local blobs under {BlobRoot}; model {ModelCard}");
        await using var host = await ClusterBenchHost.StartAsync(new ClusterBenchSetup(ModelCard, Device, LeaseFrames: null, Frames, ItemFrames ?? 1, OutputSize, BlobRoot, kind), ct);
        var spec = new JobSpec
        {
            Kind = JobKind.Video, ModelId = ClusterBenchHost.ModelId, Classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0], Frames = Frames, Seed = 12, Steps = Steps,
            OutputSize = OutputSize, Resize = "bilinear", ItemFrames = ItemFrames,
        };

        var direct = await SampleDirectAsync(host.Model, device, spec, batches, ct);
        output.WriteLine($"  direct sampling (one network call per batch, no PNG, device synchronised before each clock read), best of {Rounds}:");
        foreach (var (batch, rate) in direct) output.WriteLine($"    batch {batch,5}: {Measure.Rate(rate),8} images/s");
        var best = direct.MaxBy(d => d.ImagesPerSecond);

        // Warm-up job: grain activations, the encode and store path, blob folders; its frames are not counted.
        await host.RunClusterAsync(spec with { Frames = Math.Min(Frames, 2 * kind.LeaseFrames) }, ct);
        var (run, manifest) = await host.RunClusterAsync(spec, ct);
        if (manifest.Frames.Length != Frames) throw new CliException($"the job's manifest lists {manifest.Frames.Length} frames, not {Frames}.");
        string worker = string.Join(", ", manifest.Frames.Select(f => $"{f.DeviceKind} chunk {f.ComputeChunk} {f.Precision}").Distinct());
        output.WriteLine($"  cluster: {Frames} frames in {run.Seconds:F2} s = {Measure.Rate(run.FramesPerSecond)} frames/s (submit to completed, manifest included); worker {worker}, " +
                         $"lease {kind.LeaseFrames}; device busy {run.SamplingSeconds / run.Seconds:P0} of the wall time; {run.CpuSeconds / run.Seconds:F1} CPU cores busy; " +
                         $"first lease {1000 * run.StartSeconds:F0} ms after submit");

        double ratio = run.FramesPerSecond / best.ImagesPerSecond;
        bool met = ratio >= Goal;
        var where = BenchmarkLog.AppendRowIfWanted(Report, Section, Columns,
        [
            DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), $"{BenchmarkLog.Machine()}; load average {loadBefore} -> {BenchmarkLog.LoadAverage()}",
            $"{Device}{(Precision == Scm.Network.NetworkPrecision.Float32 ? "" : $" {Precision}")}, {kind.ComputeChunk} / {kind.LeaseFrames} / " +
            $"{ItemFrames?.ToString(CultureInfo.InvariantCulture) ?? "default"}", $"{Frames}, {OutputSize} px, {Steps}",
            string.Join(", ", direct.Select(d => $"{d.Batch}: {Measure.Rate(d.ImagesPerSecond)}")), Measure.Rate(run.FramesPerSecond),
            $"{ratio:F3} ({(met ? "met" : "missed")})", $"`{CommandLine}`",
        ]);
        if (where is not null) output.WriteLine($"  row appended to {where}");
        output.WriteLine($"P2-GPU ratio {ratio:F3} = cluster {Measure.Rate(run.FramesPerSecond)} frames/s / direct {Measure.Rate(best.ImagesPerSecond)} images/s " +
                         $"(batch {best.Batch}) on {Device}; goal >= {Goal:F2}: {(met ? "met" : "NOT met")}");
        return ratio;
    }

    /// <summary>
    /// The same network object the worker holds, called directly on the job's own frames at each batch size (one
    /// network call per batch): a warm-up call each, then <see cref="Rounds"/> interleaved timed calls.
    /// </summary>
    async Task<List<(int Batch, double ImagesPerSecond)>> SampleDirectAsync(LoadedModel model, TorchSharp.torch.Device device, JobSpec spec, int[] batches, CancellationToken ct)
    {
        int numClasses = model.Card.Network.NumClasses;
        var schedule = FramePlanner.Schedule(spec);
        await model.Gate.WaitAsync(ct);
        try
        {
            return await Task.Run(() =>
            {
                var samplers = batches.Select(b => new ConsistencySampler(model.Network, device, b)).ToArray();
                var specs = batches.Select(b => Enumerable.Range(0, b).Select(f => FramePlanner.Frame(spec, f % spec.Frames, numClasses)).ToList()).ToArray();
                for (int i = 0; i < batches.Length; i++) samplers[i].Sample(specs[i], schedule, ct).Dispose(); // kernel selection, allocator
                var best = new double[batches.Length];
                for (int round = 0; round < Rounds; round++)
                    for (int i = 0; i < batches.Length; i++)
                    {
                        Measure.Synchronize(device);
                        long start = Stopwatch.GetTimestamp();
                        samplers[i].Sample(specs[i], schedule, ct).Dispose();
                        Measure.Synchronize(device);
                        best[i] = Math.Max(best[i], batches[i] / Stopwatch.GetElapsedTime(start).TotalSeconds);
                    }
                return batches.Select((b, i) => (b, best[i])).ToList();
            }, ct);
        }
        finally { model.Gate.Release(); }
    }
}
