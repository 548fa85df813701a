using System.Diagnostics;
using System.Globalization;
using Scm.Checkpoints;
using Scm.Images;
using Scm.Network;
using Scm.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace ScmTools;

/// <summary>
/// `scm-tools bench sampler` (benchmark P1): the consistency sampler's achieved FLOP/s per batch size and torch thread
/// count, divided by a 1024x1024 matmul's FLOP/s measured at the same thread count in the same run.
/// <para>
/// Measurement: for each thread count, <see cref="Rounds"/> rounds each time one sampler call per batch size and one
/// matmul probe, interleaved, so background load hits sampler and ceiling alike. A cell's rate is its best round and
/// the ceiling is the best probe: both estimate the machine without the other load, which is what their ratio
/// compares. Medians are printed beside the best rates to show how noisy the run was.
/// </para>
/// <para>
/// On a GPU (<c>--device cuda</c>) the device is synchronised before every clock read (kernels run asynchronously),
/// the ceiling is a 4096x4096 matmul on the device, and by default each request runs as one network call (compute
/// batch = batch size), which is what "direct sampling images/s at batch N" means there.
/// </para>
/// </summary>
sealed record SamplerBench(string? ModelPath, int[] BatchSizes, int[] ThreadCounts, int Steps, int? ComputeBatch, int Rounds,
    int? PngSize, int MemoryBatches, bool Profile, string Report, string Device = "cpu", NetworkPrecision Precision = NetworkPrecision.Float32)
{
    public const string Section = "## P1 sampler efficiency";
    public const double Goal = 0.50;
    static readonly string[] Columns = ["date (UTC)", "machine", "best batch / threads", "sampler GFLOP/s", "matmul GFLOP/s", "ratio", "goal >= 0.50", "command"];

    sealed record Cell(int Threads, int Batch, int ComputeBatch, double BestSeconds, double MedianSeconds, double PngPerSecond, double Ceiling, double SampleFlops)
    {
        public double BestImagesPerSecond => Batch / BestSeconds;
        public double Gflops => BestImagesPerSecond * SampleFlops / 1e9;
        public double Ratio => Gflops / Ceiling;
    }

    /// <summary>Runs the sweep, appends the report row and returns the best ratio (also printed last).</summary>
    public double Run(TextWriter output, CancellationToken ct)
    {
        if (ThreadCounts.Any(t => t < 1)) throw new CliException("--threads: every thread count must be >= 1.");
        if (ComputeBatch < 1) throw new CliException("--compute-batch must be >= 1.");
        var device = BenchCommands.ParseDevice(Device);
        if (Profile && device.type != DeviceType.CPU) throw new CliException("--profile times CPU kernels one by one; run it with --device cpu.");
        if (Rounds < 1) throw new CliException("--rounds must be >= 1.");
        if (MemoryBatches < 0) throw new CliException("--memory-batches must be >= 0.");
        var schedule = SamplingSchedule.ForSteps(Steps);
        string loadAtStart = BenchmarkLog.LoadAverage();
        int threadsBefore = get_num_threads();
        try
        {
            var (network, description) = LoadNetwork(device);
            network.RunAt(Precision);
            var config = network.Config;
            var flops = FlopCounter.PerSample(config);
            var samplers = BatchSizes.Distinct().ToDictionary(b => b, b => new ConsistencySampler(network, device, ComputeBatchFor(b, device)));
            double sampleFlops = (double)Steps * flops.Total; // useful work only: padded rows are not counted

            output.WriteLine($"model:    {description}");
            output.WriteLine($"network:  {config.Resolution}x{config.Resolution}x{config.ImageChannels}, {network.ParameterCount():N0} parameters, " +
                             $"{flops.Total / 1e9:F3} GFLOP per sample per evaluation (conv {flops.Convolutions / 1e9:F3}, " +
                             $"linear {flops.Linears / 1e9:F4}, attention {flops.AttentionMatmuls / 1e9:F3})");
            int? chunk = ComputeBatch ?? (device.type == DeviceType.CPU ? ConsistencySampler.DefaultComputeBatch : null);
            string chunking = chunk is { } c ? $"compute batch {c} (requests are padded to a multiple of it)" : "each request in one network call";
            output.WriteLine($"sampler:  {Steps} step(s), {chunking}, " +
                             $"{device}, network in {Precision}; {Rounds} interleaved rounds per thread count, rates from the best round, device synchronised before each clock read");
            var cells = new List<Cell>();
            foreach (int threads in ThreadCounts)
            {
                set_num_threads(threads);
                var measured = Sweep(samplers, device, schedule, config, threads, sampleFlops, ct);
                PrintTable(output, threads, measured, PngSize ?? config.Resolution);
                cells.AddRange(measured);
                if (Profile) NetworkProfile.Run(network, ComputeBatchFor(BatchSizes[0], device), Rounds, measured[0].Ceiling, output, ct);
            }
            PrintNoiseRate(output, config);
            if (MemoryBatches > 0) MemoryRun(samplers[BatchSizes[0]], device, schedule, config, output, ct);

            var best = cells.MaxBy(c => c.Ratio)!;
            bool met = best.Ratio >= Goal;
            string? written = BenchmarkLog.AppendRowIfWanted(Report, Section, Columns,
            [
                DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Measure.MachineAndLoad(loadAtStart),
                $"batch {best.Batch} / {best.Threads} thread(s) ({Steps} steps, compute batch {best.ComputeBatch}, {device}{(Precision == NetworkPrecision.Float32 ? "" : $", {Precision}")})",
                best.Gflops.ToString("F1", CultureInfo.InvariantCulture), best.Ceiling.ToString("F1", CultureInfo.InvariantCulture),
                best.Ratio.ToString("F2", CultureInfo.InvariantCulture), met ? "met" : "missed",
                $"`{BenchmarkLog.CommandLine()}`",
            ]);
            output.WriteLine();
            if (written is not null) output.WriteLine($"row appended to {written} ({Section[3..]})");
            var fastest = cells.MaxBy(c => c.BestImagesPerSecond)!;
            output.WriteLine($"best direct sampling on {device}: {Measure.Rate(fastest.BestImagesPerSecond)} images/s at batch {fastest.Batch}, {fastest.Threads} thread(s)");
            output.WriteLine($"P1 sampler efficiency: {best.Gflops:F1} GFLOP/s at batch {best.Batch}, {best.Threads} thread(s) / matmul {best.Ceiling:F1} GFLOP/s " +
                             $"= ratio {best.Ratio:F2} (goal >= {Goal:F2}: {(met ? "met" : "missed")})");
            return best.Ratio;
        }
        finally
        {
            set_num_threads(threadsBefore);
        }
    }

    /// <summary>All batch sizes at the current thread count: warm-up, then interleaved rounds with matmul probes.</summary>
    List<Cell> Sweep(Dictionary<int, ConsistencySampler> samplers, Device device, SamplingSchedule schedule, NetworkConfig config, int threads, double sampleFlops, CancellationToken ct)
    {
        int pngSize = PngSize ?? config.Resolution;
        long frame = 0;
        List<SampleSpec> Specs(int batch) => Enumerable.Range(0, batch).Select(_ => Spec(config, frame++)).ToList();
        using var probe = new MatmulProbe(device);
        foreach (int batch in BatchSizes) samplers[batch].Sample(Specs(batch), schedule, ct).Dispose(); // kernel selection, allocator

        var seconds = BatchSizes.Select(_ => new List<double>()).ToArray();
        var encodeSeconds = new double[BatchSizes.Length];
        for (int round = 0; round < Rounds; round++)
        {
            probe.Sample(calls: 2, ct);
            for (int i = 0; i < BatchSizes.Length; i++)
            {
                var specs = Specs(BatchSizes[i]);
                Measure.Synchronize(device);
                long start = Stopwatch.GetTimestamp();
                using var images = samplers[BatchSizes[i]].Sample(specs, schedule, ct);
                Measure.Synchronize(device);
                seconds[i].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                start = Stopwatch.GetTimestamp();
                PngEncoder.EncodeBatch(images, pngSize);
                encodeSeconds[i] += Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }
        probe.Sample(calls: 2, ct);
        return BatchSizes.Select((batch, i) => new Cell(threads, batch, samplers[batch].ComputeBatch, seconds[i].Min(), Median(seconds[i]),
            Rounds * batch / encodeSeconds[i], probe.BestGflops, sampleFlops)).ToList();
    }

    static void PrintTable(TextWriter output, int threads, List<Cell> cells, int pngSize)
    {
        output.WriteLine();
        output.WriteLine($"{threads} torch thread(s): matmul ceiling {cells[0].Ceiling:F1} GFLOP/s (best square fp32 probe of the rounds)");
        output.WriteLine("  batch   images/s best (median)   ms/batch   net GFLOP/s   ratio   PNG images/s (excluded)");
        foreach (var c in cells)
            output.WriteLine($"  {c.Batch,5}   {Measure.Rate(c.BestImagesPerSecond),8} ({Measure.Rate(c.Batch / c.MedianSeconds),8})   " +
                             $"{1000 * c.BestSeconds,8:F1}   {c.Gflops,11:F2}   {c.Ratio,5:F2}   {c.PngPerSecond,10:F0} at {pngSize}x{pngSize}");
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>The compute batch of a request of <paramref name="batch"/> images: the option, else 8 on a CPU and the whole request on a GPU.</summary>
    int ComputeBatchFor(int batch, Device device) => ComputeBatch ?? (device.type == DeviceType.CPU ? ConsistencySampler.DefaultComputeBatch : batch);

    (ScmUNet Network, string Description) LoadNetwork(Device device)
    {
        string? path = ModelPath ?? (File.Exists(BenchCommands.DefaultModel) ? BenchCommands.DefaultModel : null);
        if (path is null)
        {
            manual_seed(0);
            var random = new ScmUNet(NetworkConfig.Mnist);
            random.to(device);
            random.eval();
            return (random, $"random initialisation of the shipped MNIST architecture ({BenchCommands.DefaultModel} not found; speed does not depend on the weights)");
        }
        var (network, card) = Checkpoint.Load(path, device);
        return (network, $"{path} ('{card.Name}', {card.Kind})");
    }

    void MemoryRun(ConsistencySampler sampler, Device device, SamplingSchedule schedule, NetworkConfig config, TextWriter output, CancellationToken ct)
    {
        int batch = sampler.ComputeBatch;
        long frame = 0;
        void Batch() => sampler.Sample(Enumerable.Range(0, batch).Select(_ => Spec(config, frame++)).ToList(), schedule, ct).Dispose();
        Batch();
        var before = Measure.Memory();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < MemoryBatches; i++) Batch();
        Measure.Synchronize(device);
        var after = Measure.Memory();
        output.WriteLine();
        output.WriteLine($"memory:   {MemoryBatches:N0} batches of {batch} in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"          live tensors {before.LiveTensors:N0} -> {after.LiveTensors:N0} ({after.LiveTensors - before.LiveTensors:+#;-#;0})");
        output.WriteLine($"          RSS {before.ResidentMiB:F1} MiB -> {after.ResidentMiB:F1} MiB ({after.ResidentMiB - before.ResidentMiB:+0.0;-0.0;0.0} MiB)");
    }

    /// <summary>The host-side share of every sampler call: one step's noise for the largest batch (best of the rounds).</summary>
    void PrintNoiseRate(TextWriter output, NetworkConfig config)
    {
        int batch = BatchSizes.Max();
        var specs = Enumerable.Range(0, batch).Select(f => Spec(config, f)).ToList();
        long[] shape = [config.ImageChannels, config.Resolution, config.Resolution];
        double best = double.MaxValue;
        for (int round = 0; round <= Rounds; round++)
        {
            long start = Stopwatch.GetTimestamp();
            NoiseBank.StandardNormal(specs, 0, shape).Dispose();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        output.WriteLine();
        output.WriteLine($"host noise: {Measure.Rate(batch / best)} samples/s per step on {Environment.ProcessorCount} cores " +
                         "(drawn on the host before each network call; part of every rate above)");
    }

    static SampleSpec Spec(NetworkConfig config, long frame) =>
        SampleSpec.Image(1, frame, config.NumClasses > 0 ? (int)(frame % config.NumClasses) : -1, config.NumClasses);
}
