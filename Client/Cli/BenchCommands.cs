using System.CommandLine;
using System.Diagnostics;
using Scm.Checkpoints;
using Scm.Images;
using Scm.Network;
using Scm.Sampling;
using static TorchSharp.torch;

namespace Cli;

/// <summary>
/// `scmctl bench ...`: throughput measurements printed next to a ceiling measured in the same run, so numbers from
/// a busy or different machine can still be read. Each measured thing is a subcommand; add more beside
/// <see cref="Sampler"/> (e.g. a training step or PNG-only bench) using the helpers in <see cref="Measure"/>.
/// </summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput on this machine (next to a matmul ceiling from the same run).");
        bench.Subcommands.Add(Sampler());
        return bench;
    }

    static string DefaultModel => Path.Combine(RepoPaths.Models, "mnist-scm", "model.json");

    static Command Sampler()
    {
        var command = new Command("sampler", "Images/s of the consistency sampler per batch size, PNG encoding timed separately.");
        var model = new Option<string?>("--model") { Description = "Model card (default: models/mnist-scm/model.json in the repository if it exists, else a randomly initialised network of the shipped MNIST architecture)." };
        var batchSizes = new Option<string>("--batch-sizes") { Description = "Comma-separated request batch sizes.", DefaultValueFactory = _ => "1,2,4,8,16,32,64" };
        var steps = new Option<int>("--steps") { Description = "Sampling steps (network evaluations per image).", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var computeBatch = new Option<int>("--compute-batch") { Description = "Samples per network evaluation (the sampler pads to it).", DefaultValueFactory = _ => ConsistencySampler.DefaultComputeBatch };
        var seconds = new Option<double>("--seconds") { Description = "Minimum measuring time per batch size.", DefaultValueFactory = _ => 3.0 };
        var pngSize = new Option<int?>("--png-size") { Description = "PNG output size in pixels (default: the model's resolution)." };
        var memoryBatches = new Option<int>("--memory-batches") { Description = "Then sample this many batches and print live tensors and RSS before/after (0 = skip).", DefaultValueFactory = _ => 0 };
        foreach (var option in new Option[] { model, batchSizes, steps, threads, computeBatch, seconds, pngSize, memoryBatches })
            command.Options.Add(option);

        command.SetAction((r, ct) => Run(() =>
        {
            var settings = new SamplerBench(
                r.GetValue(model), ParseBatchSizes(r.GetValue(batchSizes)!), r.GetValue(steps), r.GetValue(threads),
                r.GetValue(computeBatch), r.GetValue(seconds), r.GetValue(pngSize), r.GetValue(memoryBatches));
            settings.Run(Console.Out, ct);
        }));
        return command;
    }

    static int[] ParseBatchSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, out int size) || size < 1 || size > 4096)
                throw new CliException($"--batch-sizes: '{part}' is not a batch size in [1, 4096].");
            sizes.Add(size);
        }
        if (sizes.Count == 0) throw new CliException("--batch-sizes: give at least one batch size, e.g. 1,8,64.");
        return [.. sizes];
    }

    static Task<int> Run(Action bench) => Task.Run(() =>
    {
        try
        {
            bench();
            return 0;
        }
        catch (Exception e) when (e is CliException or CheckpointException or ArgumentException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return 130;
        }
    });

    sealed record SamplerBench(string? ModelPath, int[] BatchSizes, int Steps, int Threads, int ComputeBatch, double Seconds, int? PngSize, int MemoryBatches)
    {
        public void Run(TextWriter output, CancellationToken ct)
        {
            if (Threads < 1) throw new CliException("--threads must be >= 1.");
            if (ComputeBatch < 1) throw new CliException("--compute-batch must be >= 1.");
            if (!(Seconds > 0)) throw new CliException("--seconds must be > 0.");
            if (MemoryBatches < 0) throw new CliException("--memory-batches must be >= 0.");
            var schedule = SamplingSchedule.ForSteps(Steps);
            set_num_threads(Threads);

            var (network, description) = LoadNetwork();
            var config = network.Config;
            var flops = FlopCounter.PerSample(config);
            int pngSize = PngSize ?? config.Resolution;
            var sampler = new ConsistencySampler(network, CPU, ComputeBatch);

            output.WriteLine($"model:    {description}");
            output.WriteLine($"network:  {config.Resolution}x{config.Resolution}x{config.ImageChannels}, {network.ParameterCount():N0} parameters, " +
                             $"{flops.Total / 1e9:F3} GFLOP per sample per evaluation (conv {flops.Convolutions / 1e9:F3}, linear {flops.Linears / 1e9:F4}, attention {flops.AttentionMatmuls / 1e9:F3})");
            output.WriteLine($"sampler:  {Steps} step(s), compute batch {ComputeBatch} (requests are padded to a multiple of it), {Threads} torch thread(s), CPU, fp32");
            double ceilingBefore = Measure.MatmulGflops(ct);
            output.WriteLine($"ceiling:  1024x1024 fp32 matmul {ceilingBefore:F1} GFLOP/s (best of ~1 s)");
            output.WriteLine();
            output.WriteLine("  batch   images/s   ms/batch   net GFLOP/s   of ceiling   PNG images/s (excluded)");

            var rows = new List<(int Batch, double ImagesPerSecond, double MsPerBatch, double PngPerSecond)>();
            long frame = 0;
            foreach (int batch in BatchSizes)
            {
                ct.ThrowIfCancellationRequested();
                List<SampleSpec> Specs() => Enumerable.Range(0, batch).Select(_ => Spec(config, frame++)).ToList();
                sampler.Sample(Specs(), schedule, ct).Dispose(); // warm-up: kernel selection, allocator
                int batches = 0;
                double sampleSeconds = 0, encodeSeconds = 0;
                while (sampleSeconds < Seconds || batches < 3)
                {
                    var specs = Specs();
                    long start = Stopwatch.GetTimestamp();
                    using var images = sampler.Sample(specs, schedule, ct);
                    sampleSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
                    start = Stopwatch.GetTimestamp();
                    PngEncoder.EncodeBatch(images, pngSize);
                    encodeSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
                    batches++;
                }
                double imagesPerSecond = batches * batch / sampleSeconds;
                rows.Add((batch, imagesPerSecond, 1000 * sampleSeconds / batches, batches * batch / encodeSeconds));
            }
            double ceilingAfter = Measure.MatmulGflops(ct);
            double ceiling = Math.Max(ceilingBefore, ceilingAfter);
            foreach (var row in rows)
            {
                // Useful work only: padding a request up to the compute batch costs time but counts no FLOPs.
                double gflops = row.ImagesPerSecond * Steps * flops.Total / 1e9;
                output.WriteLine($"  {row.Batch,5}   {row.ImagesPerSecond,8:F1}   {row.MsPerBatch,8:F1}   {gflops,11:F2}   {gflops / ceiling,9:P1}   {row.PngPerSecond,10:F0} at {pngSize}x{pngSize}");
            }
            output.WriteLine();
            output.WriteLine($"ceiling again after the sampler: {ceilingAfter:F1} GFLOP/s; ratios use the higher ({ceiling:F1}). " +
                             "On a shared machine every number here moves with the other load.");

            if (MemoryBatches > 0) MemoryRun(sampler, schedule, config, output, ct);
        }

        (ScmUNet Network, string Description) LoadNetwork()
        {
            string? path = ModelPath ?? (File.Exists(DefaultModel) ? DefaultModel : null);
            if (path is null)
            {
                manual_seed(0);
                var random = new ScmUNet(TrainCommands.MnistNetwork);
                random.eval();
                return (random, $"random initialisation of the shipped MNIST architecture ({DefaultModel} not found; speed does not depend on the weights)");
            }
            var (network, card) = Checkpoint.Load(path, CPU);
            return (network, $"{path} ('{card.Name}', {card.Kind})");
        }

        void MemoryRun(ConsistencySampler sampler, SamplingSchedule schedule, NetworkConfig config, TextWriter output, CancellationToken ct)
        {
            int batch = ComputeBatch;
            long frame = 0;
            void Batch() => sampler.Sample(Enumerable.Range(0, batch).Select(_ => Spec(config, frame++)).ToList(), schedule, ct).Dispose();
            Batch();
            var before = Measure.Memory();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < MemoryBatches; i++) Batch();
            var after = Measure.Memory();
            output.WriteLine();
            output.WriteLine($"memory:   {MemoryBatches:N0} batches of {batch} in {clock.Elapsed.TotalSeconds:F1} s");
            output.WriteLine($"          live tensors {before.LiveTensors:N0} -> {after.LiveTensors:N0} ({after.LiveTensors - before.LiveTensors:+#;-#;0})");
            output.WriteLine($"          RSS {before.ResidentMiB:F1} MiB -> {after.ResidentMiB:F1} MiB ({after.ResidentMiB - before.ResidentMiB:+0.0;-0.0;0.0} MiB)");
        }

        static SampleSpec Spec(NetworkConfig config, long frame) =>
            SampleSpec.Image(1, frame, config.NumClasses > 0 ? (int)(frame % config.NumClasses) : -1, config.NumClasses);
    }
}

/// <summary>Measurements shared by the bench subcommands.</summary>
public static class Measure
{
    /// <summary>Best rate of a 1024x1024 fp32 matmul over about a second: the machine's practical GEMM ceiling now.</summary>
    public static double MatmulGflops(CancellationToken ct, double seconds = 1.0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(0);
        var a = randn(1024, 1024);
        var b = randn(1024, 1024);
        a.matmul(b).Dispose();
        double best = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            ct.ThrowIfCancellationRequested();
            long start = Stopwatch.GetTimestamp();
            a.matmul(b).Dispose();
            best = Math.Max(best, 2.0 * 1024 * 1024 * 1024 / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Live TorchSharp tensors and process RSS, after a full GC so that only reachable tensors count.</summary>
    public static (long LiveTensors, double ResidentMiB) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (Tensor.TotalCount, process.WorkingSet64 / 1048576.0);
    }
}
