using System.CommandLine;
using System.Globalization;

namespace ScmTools;

/// <summary>`scm-tools bench scale`: options of <see cref="ScaleBench"/>, its summary lines and its row in docs/BENCHMARKS.md.</summary>
public static class ScaleCommand
{
    public static Command Create()
    {
        var command = new Command("scale", "SIMULATION: throughput / ideal and scheduler cost per batch with up to 8 in-process silos of simulated devices.");
        var devices = new Option<string>("--devices") { Description = "Comma-separated device counts; each gets a fresh cluster.", DefaultValueFactory = _ => "1,16,64,256" };
        var silos = new Option<int>("--silos") { Description = "Most silos in this process (devices are spread evenly).", DefaultValueFactory = _ => 8 };
        var framesPerBatch = new Option<int>("--frames-per-batch") { Description = "Frames per lease (Devices:MaxLeaseFrames).", DefaultValueFactory = _ => 16 };
        var itemFrames = new Option<int?>("--item-frames") { Description = "Frames per work item (default: --frames-per-batch, one item per lease)." };
        var batchDelay = new Option<double>("--batch-delay-ms") { Description = "Simulated cost of one batch (Devices:Simulated:BatchDelay).", DefaultValueFactory = _ => 200 };
        var perFrame = new Option<double>("--per-frame-delay-ms") { Description = "Simulated cost per frame (Devices:Simulated:PerFrameDelay).", DefaultValueFactory = _ => 0 };
        var seconds = new Option<double>("--seconds") { Description = "Work per device in the measured jobs, in simulated seconds.", DefaultValueFactory = _ => 5 };
        var jobFrames = new Option<int>("--job-frames") { Description = "Frames per job (the work is split into jobs of this size).", DefaultValueFactory = _ => 2000 };
        var modelCard = new Option<string>("--model-card") { Description = "Model card the jobs name (only read for validation).", DefaultValueFactory = _ => BenchCommands.DefaultModel };
        var report = BenchmarkLog.ReportOption();
        foreach (var o in new Option[] { devices, silos, framesPerBatch, itemFrames, batchDelay, perFrame, seconds, jobFrames, modelCard, report })
            command.Options.Add(o);

        command.SetAction((r, ct) => CliExit.RunAsync(async () =>
        {
            int batch = r.GetValue(framesPerBatch);
            var bench = new ScaleBench(ParseCounts(r.GetValue(devices)!), r.GetValue(silos), batch, r.GetValue(itemFrames) ?? batch,
                TimeSpan.FromMilliseconds(r.GetValue(batchDelay)), TimeSpan.FromMilliseconds(r.GetValue(perFrame)), r.GetValue(seconds),
                r.GetValue(jobFrames), r.GetValue(modelCard)!);
            var rows = await bench.RunAsync(Console.Out, ct);
            Summarize(bench, rows, r.GetValue(report)!, Console.Out);
        }, r.InvocationConfiguration.Error));
        return command;
    }

    static int[] ParseCounts(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out int n) || n < 1) throw new CliException($"--devices: '{part}' is not a device count >= 1.");
            counts.Add(n);
        }
        if (counts.Count == 0) throw new CliException("--devices: give at least one count, e.g. 1,16,64,256.");
        return [.. counts];
    }

    /// <summary>Appends the row, then prints the ratio at the largest count last, with the goals.</summary>
    static void Summarize(ScaleBench bench, IReadOnlyList<ScaleBench.Row> rows, string report, TextWriter output)
    {
        var largest = rows.MaxBy(r => r.Devices)!;
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var written = BenchmarkLog.AppendRowIfWanted(report, ScaleBench.Section,
            ["date", "machine", "batch", "throughput / ideal by devices", "scheduler ms per batch by devices", "process CPU ms per batch by devices", "load avg", "command"],
            [
                DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), BenchmarkLog.Machine(),
                $"{bench.FramesPerBatch} frames, {F((bench.BatchDelay + bench.PerFrameDelay * bench.FramesPerBatch).TotalMilliseconds, "F0")} ms simulated",
                string.Join(", ", rows.Select(r => $"{r.Devices}: {F(r.Ratio, "F3")}")),
                string.Join(", ", rows.Select(r => $"{r.Devices}: {F(r.SchedulerMsPerBatch, "F3")}")),
                string.Join(", ", rows.Select(r => $"{r.Devices}: {F(r.CpuMsPerBatch, "F2")}")),
                string.Join(", ", rows.Select(r => F(r.LoadAverage, "F1"))),
                "`" + BenchmarkLog.CommandLine() + "`",
            ]);
        output.WriteLine();
        if (written is not null) output.WriteLine($"row appended to {written}");
        output.WriteLine($"process CPU per batch at {largest.Devices} devices: {F(largest.CpuMsPerBatch, "F2")} ms, so {Environment.ProcessorCount} free cores " +
                         $"could keep ~{F(bench.DeviceCeiling(largest), "F0")} devices busy; machine load average {F(largest.LoadAverage, "F1")}");
        output.WriteLine($"scheduler cost per batch at {largest.Devices} devices: {F(largest.SchedulerMsPerBatch, "F3")} ms (goal <= {F(ScaleBench.SchedulerMsGoal, "F1")} ms)");
        output.WriteLine($"throughput / ideal at {largest.Devices} devices ({largest.Silos} silos, SIMULATED): {F(largest.Ratio, "F3")} (goal >= {F(ScaleBench.RatioGoal, "F2")})");
    }
}
