using System.Diagnostics;
using Scm.Checkpoints;
using Scm.Images;
using Scm.Network;
using Scm.Sampling;
using static TorchSharp.torch;

namespace Cli;

/// <summary>`scmctl bench sampler`: the consistency sampler alone, per batch size, next to a matmul ceiling.</summary>
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
        string? path = ModelPath ?? (File.Exists(BenchCommands.DefaultModel) ? BenchCommands.DefaultModel : null);
        if (path is null)
        {
            manual_seed(0);
            var random = new ScmUNet(TrainCommands.MnistNetwork);
            random.eval();
            return (random, $"random initialisation of the shipped MNIST architecture ({BenchCommands.DefaultModel} not found; speed does not depend on the weights)");
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
