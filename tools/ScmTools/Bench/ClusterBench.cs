using System.CommandLine;
using System.Globalization;
using Scm.Checkpoints;

namespace ScmTools;

/// <summary>
/// `scm-tools bench cluster` (issue 6, P2): frames/s through a one-silo cluster divided by frames/s of calling the
/// sampler directly in the same process on the same frames and batch size. Runs alternate direct, cluster, direct,
/// ... after a warm-up of both, so drift on a shared machine shows up in the per-run numbers.
/// </summary>
sealed record ClusterBench(string? ModelPath, int Frames, int[] BatchSizes, int Rounds, int Steps, int OutputSize, string Report, string CommandLine, string Device = "cpu")
{
    public const string Section = "## P2 cluster overhead";
    public const double Goal = 0.95;
    static readonly string[] Columns =
        ["date", "machine", "load avg (start, end)", "frames x batch", "png size, steps", "direct frames/s", "cluster frames/s", "ratio (goal >= 0.95)", "runs in order (frames/s)", "command"];

    public static Command Command()
    {
        var command = new Command("cluster",
            "Cluster overhead: frames/s through a 1-silo, 1-worker cluster (local-folder blobs) / frames/s of the sampler called directly; " +
            "PNG encoding and file writes in both.");
        var model = new Option<string?>("--model") { Description = "Model card (default: models/mnist-scm/model.json in the repository)." };
        var frames = new Option<int>("--frames") { Description = "Frames per timed run.", DefaultValueFactory = _ => 320 };
        var batchSizes = new Option<string>("--batch-sizes")
        {
            Description = "Comma-separated batch sizes B (frames per work item = per lease = per direct sampler call); one row each.",
            DefaultValueFactory = _ => "16"
        };
        var rounds = new Option<int>("--rounds") { Description = "Timed cluster runs per batch size, each between two direct runs.", DefaultValueFactory = _ => 3 };
        var steps = new Option<int>("--steps") { Description = "Consistency steps.", DefaultValueFactory = _ => 2 };
        var size = new Option<int>("--size") { Description = "PNG size in pixels (the job default).", DefaultValueFactory = _ => 128 };
        var report = BenchmarkLog.ReportOption();
        var device = BenchCommands.DeviceOption();
        device.Description += " The worker is pinned to it and samples in that kind's compute chunk (Devices:Cpu 8, Devices:Cuda 512): on a GPU give batch sizes that are multiples of it.";
        foreach (var option in new Option[] { model, frames, batchSizes, rounds, steps, size, report, device }) command.Options.Add(option);
        command.SetAction((r, ct) => CliExit.RunAsync(async () =>
        {
            // The row's command is what was parsed (not the process's arguments), so it is right in-process too.
            string commandLine = "scm-tools " + string.Join(' ', r.Tokens.Select(t => t.Value.Contains(' ') ? $"\"{t.Value}\"" : t.Value));
            var bench = new ClusterBench(r.GetValue(model), r.GetValue(frames), BenchCommands.ParseBatchSizes(r.GetValue(batchSizes)!),
                r.GetValue(rounds), r.GetValue(steps), r.GetValue(size), r.GetValue(report)!, commandLine, r.GetValue(device)!);
            await bench.RunAsync(r.InvocationConfiguration.Output, ct);
        }, r.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs every batch size; returns the ratio of each.</summary>
    public async Task<IReadOnlyList<(int Batch, double Ratio)>> RunAsync(TextWriter output, CancellationToken ct)
    {
        if (Frames < 1) throw new CliException("--frames must be >= 1.");
        if (Rounds < 1) throw new CliException("--rounds must be >= 1.");
        if (Steps < 1) throw new CliException("--steps must be >= 1.");
        if (OutputSize is < 8 or > 512) throw new CliException("--size must be in [8, 512].");
        string card = ModelPath ?? BenchCommands.DefaultModel;
        if (!File.Exists(card)) throw new CliException($"--model: '{card}' not found.");
        BenchCommands.ParseDevice(Device);

        output.WriteLine($"P2 cluster overhead: {Frames} frames per run, {Steps} step(s), {OutputSize}x{OutputSize} PNG, model {card}, device {Device}");
        output.WriteLine("  both paths: sample in batches of B, encode PNGs, SHA-256 and write each file to a local folder (LocalFolderBlobStore).");
        output.WriteLine("  cluster adds: submit through the API grain, coordinator, scheduler leases, per-item reports, manifest; timed submit -> Completed.");
        var ratios = new List<(int Batch, double Ratio)>();
        foreach (int batch in BatchSizes)
        {
            ct.ThrowIfCancellationRequested();
            ratios.Add((batch, await RunBatchSizeAsync(batch, output, ct)));
        }
        var worst = ratios.MinBy(r => r.Ratio);
        string each = string.Join(", ", ratios.Select(r => $"B={r.Batch}: {r.Ratio:F3}"));
        output.WriteLine();
        output.WriteLine(ratios.Count == 1
            ? $"ratio {worst.Ratio:F3} (cluster / direct frames/s, B={worst.Batch}); goal >= {Goal:F2}: {(worst.Ratio >= Goal ? "met" : "NOT met")}"
            : $"ratio {worst.Ratio:F3} (worst of {each}); goal >= {Goal:F2}: {(worst.Ratio >= Goal ? "met" : "NOT met")}");
        return ratios;
    }

    async Task<double> RunBatchSizeAsync(int batch, TextWriter output, CancellationToken ct)
    {
        output.WriteLine();
        output.WriteLine($"B = {batch}: starting a one-silo cluster...");
        await using var host = await ClusterBenchHost.StartAsync(new ClusterBenchSetup(ModelPath ?? BenchCommands.DefaultModel, Device, batch, Frames, batch, OutputSize), ct);
        var spec = ClusterBenchHost.Spec(Frames, batch, Steps, OutputSize);
        // Other processes share this machine; the 1-minute load average says how much (2 cores: above 2 is contention).
        string loadBefore = BenchmarkLog.LoadAverage();

        // Warm-up of both paths: JIT, grain activations, kernel selection, allocator.
        var warm = spec with { Frames = Math.Min(Frames, 2 * batch) };
        await host.RunClusterAsync(warm, ct);
        await host.RunDirectAsync(warm, ct);

        var runs = new List<BenchRun>();
        string[]? directHashes = null, clusterHashes = null;
        async Task Direct()
        {
            var (run, hashes) = await host.RunDirectAsync(spec, ct);
            directHashes = hashes;
            Print(output, run);
            runs.Add(run);
        }
        await Direct();
        for (int round = 0; round < Rounds; round++)
        {
            var (run, manifest) = await host.RunClusterAsync(spec, ct);
            clusterHashes = manifest.Frames.OrderBy(f => f.Index).Select(f => f.Sha256).ToArray();
            Print(output, run);
            runs.Add(run);
            await Direct();
        }

        double Rate(string path) => runs.Where(r => r.Path == path).Sum(r => r.Frames) / runs.Where(r => r.Path == path).Sum(r => r.Seconds);
        double direct = Rate("direct"), cluster = Rate("cluster"), ratio = cluster / direct;
        bool same = directHashes!.SequenceEqual(clusterHashes!);
        output.WriteLine($"  same PNG bytes in both paths: {(same ? "yes" : "NO (determinism problem; see docs/SAMPLING-DETERMINISM.md)")}");
        output.WriteLine($"  B = {batch}: direct {direct:F1} frames/s, cluster {cluster:F1} frames/s, ratio {ratio:F3}");

        string runsCell = string.Join(", ", runs.Select(r => $"{(r.Path == "direct" ? "D" : "C")} {r.FramesPerSecond:F1}"));
        var where = BenchmarkLog.AppendRowIfWanted(Report, Section, Columns,
        [
            DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), BenchmarkLog.Machine() + (Device == "cpu" ? "" : $"; device {Device}"),
            $"{loadBefore}, {BenchmarkLog.LoadAverage()}", $"{Frames} x {batch}", $"{OutputSize} px, {Steps}",
            $"{direct:F1}", $"{cluster:F1}", $"{ratio:F3}", runsCell, $"`{CommandLine}`",
        ]);
        if (where is not null) output.WriteLine($"  row appended to {where}");
        return ratio;
    }

    static void Print(TextWriter output, BenchRun run) =>
        output.WriteLine($"  {run.Path,-8} {run.Frames,5} frames in {run.Seconds,6:F2} s = {run.FramesPerSecond,7:F1} frames/s; " +
                         $"sampler busy {run.SamplingSeconds / run.Seconds,4:P0} of the wall time, {1000 * run.CpuSeconds / run.Frames,5:F1} CPU-ms/frame" +
                         (run.Path == "cluster" ? $"; first lease {1000 * run.StartSeconds:F0} ms after submit"
                             : $"; PNG {run.EncodeSeconds / run.Seconds:P0}, hash + write {run.WriteSeconds / run.Seconds:P0}"));
}
