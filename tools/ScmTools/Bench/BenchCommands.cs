using System.CommandLine;
using Scm.Checkpoints;
using Scm.Sampling;

namespace ScmTools;

/// <summary>
/// `scm-tools bench ...`: throughput measurements printed next to a ceiling measured in the same run, so numbers from
/// a busy or different machine can still be read. Each measured thing is a subcommand, timed with the helpers in
/// <see cref="Measure"/>.
/// </summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput on this machine (next to a matmul ceiling from the same run).");
        bench.Subcommands.Add(Sampler());
        bench.Subcommands.Add(ConsistencyVsDiffusion());
        bench.Subcommands.Add(ScaleCommand.Create());
        bench.Subcommands.Add(ClusterBench.Command());
        bench.Subcommands.Add(HostBench.Command());
        bench.Subcommands.Add(P2GpuBench.Command());
        return bench;
    }

    internal static string DefaultModel => Path.Combine(RepoPaths.Models, "mnist-scm", "model.json");

    static Command Sampler()
    {
        var command = new Command("sampler",
            "Sampler efficiency: the sampler's FLOP/s per batch size and thread count over a same-run matmul FLOP/s; PNG encoding timed separately.");
        var model = new Option<string?>("--model")
        {
            Description = "Model card (default: models/mnist-scm/model.json in the repository if it exists, " +
                          "else a randomly initialised network of the shipped MNIST architecture)."
        };
        var batchSizes = new Option<string>("--batch-sizes") { Description = "Comma-separated request batch sizes.", DefaultValueFactory = _ => "1,2,4,8,16,32,64" };
        var threads = new Option<string>("--threads")
        {
            Description = "Comma-separated torch thread counts to sweep (process-wide; the ceiling is measured at each).",
            DefaultValueFactory = _ => DefaultThreadCounts()
        };
        var steps = new Option<int>("--steps") { Description = "Sampling steps (network evaluations per image).", DefaultValueFactory = _ => 2 };
        var computeBatch = new Option<int?>("--compute-batch")
        {
            Description = "Samples per network evaluation (the sampler pads to it); " +
                          $"default {ConsistencySampler.DefaultComputeBatch} on a CPU, the whole batch on a GPU."
        };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Interleaved rounds per thread count (one sampler call per batch size + matmul probes each); rates are the best round.",
            DefaultValueFactory = _ => 10
        };
        var pngSize = new Option<int?>("--png-size") { Description = "PNG output size in pixels (default: the model's resolution)." };
        var memoryBatches = new Option<int>("--memory-batches") { Description = "Then sample this many batches and print live tensors and RSS before/after (0 = skip).", DefaultValueFactory = _ => 0 };
        var profile = new Option<bool>("--profile") { Description = "Also time one forward pass against its convolutions alone, per thread count." };
        var report = BenchmarkLog.ReportOption();
        var device = DeviceOption();
        var precision = PrecisionOption();
        foreach (var option in new Option[] { model, batchSizes, threads, steps, computeBatch, rounds, pngSize, memoryBatches, profile, report, device, precision })
            command.Options.Add(option);

        command.SetAction((r, ct) => CliExit.Run(() =>
        {
            var settings = new SamplerBench(
                r.GetValue(model), ParseList(r.GetValue(batchSizes)!, "--batch-sizes", 4096), ParseList(r.GetValue(threads)!, "--threads", 1024),
                r.GetValue(steps), r.GetValue(computeBatch), r.GetValue(rounds), r.GetValue(pngSize), r.GetValue(memoryBatches),
                r.GetValue(profile), r.GetValue(report)!, r.GetValue(device)!, r.GetValue(precision));
            settings.Run(Console.Out, ct);
        }, r.InvocationConfiguration.Error));
        return command;
    }

    static Command ConsistencyVsDiffusion()
    {
        var command = new Command("consistency-vs-diffusion",
            "Consistency vs diffusion: teacher PF-ODE at 63 NFE vs sCM at 2 steps on the same samples: time ratio next to the FD ratio.");
        command.Aliases.Add("consistency");
        var student = new Option<string>("--student") { Description = "sCM student model card.", DefaultValueFactory = _ => DefaultModel };
        var teacher = new Option<string>("--teacher")
        {
            Description = "Diffusion teacher model card (default: models/mnist-teacher/model.json if it exists, else runs/teacher/ema/model.json).",
            DefaultValueFactory = _ => RepoPaths.JudgingTeacher
        };
        var classifier = new Option<string>("--classifier") { Description = "Folder of the evaluation classifier.", DefaultValueFactory = _ => Path.Combine(RepoPaths.Models, "mnist-classifier") };
        var data = new Option<string>("--data") { Description = "MNIST folder (infra/fetch-mnist.sh).", DefaultValueFactory = _ => RepoPaths.Data };
        var samples = new Option<int>("--samples")
        {
            Description = "Samples per sampler (a multiple of 10); the teacher's 63 NFE take most of the time: ~0.15 s each on 2 cores.",
            DefaultValueFactory = _ => 1000
        };
        var batch = new Option<int>("--batch-size") { Description = "Samples per timed batch and per network evaluation (as in `scm-tools eval`).", DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { Description = "Torch threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var teacherNfe = new Option<int>("--teacher-nfe") { Description = "Teacher network evaluations per sample.", DefaultValueFactory = _ => 63 };
        var studentSteps = new Option<int>("--student-steps") { Description = "sCM sampling steps.", DefaultValueFactory = _ => 2 };
        var studentTimes = new Option<string?>("--student-times")
        {
            Description = "The student's intermediate TrigFlow times, comma-separated, decreasing, steps - 1 of them (default: the card's t_mid for 2 steps, else 1.1)."
        };
        var seed = new Option<ulong>("--seed") { Description = "Noise seed (the teacher starts from the student's noise).", DefaultValueFactory = _ => 2024UL };
        var guidance = new Option<double>("--teacher-guidance")
        {
            Description = "Classifier-free guidance scale of the teacher (1 = none; otherwise each step costs 2 network calls).",
            DefaultValueFactory = _ => 1.0
        };
        var against = new Option<JudgedAgainst>("--against")
        {
            Description = "Digits to judge against: HeldOut (the final table's) or Validation (for decisions: sampler settings, guidance).",
            DefaultValueFactory = _ => JudgedAgainst.HeldOut
        };
        var report = BenchmarkLog.ReportOption();
        var device = DeviceOption();
        var precision = PrecisionOption();
        foreach (var option in new Option[] { student, teacher, classifier, data, samples, batch, threads, teacherNfe, studentSteps, studentTimes, seed, guidance, against, report, device, precision })
            command.Options.Add(option);

        command.SetAction((r, ct) => CliExit.Run(() =>
        {
            var settings = new ConsistencyVsDiffusionBench(r.GetValue(student)!, r.GetValue(teacher)!, r.GetValue(classifier)!, r.GetValue(data)!,
                r.GetValue(samples), r.GetValue(batch), r.GetValue(threads), r.GetValue(teacherNfe), r.GetValue(studentSteps),
                ParseTimes(r.GetValue(studentTimes)), r.GetValue(seed), r.GetValue(report)!, r.GetValue(device)!, r.GetValue(guidance), r.GetValue(against), r.GetValue(precision));
            settings.Run(Console.Out, ct);
        }, r.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>`--device`: where a bench runs its network (its clocks wait for the device before they are read).</summary>
    internal static Option<string> DeviceOption() => new("--device") { Description = "Torch device: cpu, cuda, cuda:1 ...", DefaultValueFactory = _ => "cpu" };

    /// <summary>`--precision`: the dtype the networks run in (the samplers' arithmetic around them stays float32).</summary>
    internal static Option<Scm.Network.NetworkPrecision> PrecisionOption() => new("--precision")
    {
        Description = "Network precision: Float32, BFloat16 or Float16 (16-bit: half the memory traffic on a GPU; measure its quality with eval).",
        DefaultValueFactory = _ => Scm.Network.NetworkPrecision.Float32
    };

    internal static TorchSharp.torch.Device ParseDevice(string name)
    {
        try { return TorchSharp.torch.device(name); }
        catch (ArgumentException e) { throw new CliException($"--device: '{name}' is not a torch device ({e.Message})."); }
    }

    /// <summary>1 and every core: the two ends that matter on a small CPU machine.</summary>
    static string DefaultThreadCounts() => Environment.ProcessorCount > 1 ? $"1,{Environment.ProcessorCount}" : "1";

    /// <summary>Comma-separated finite numbers (null for no text); <paramref name="option"/> names them in the error.</summary>
    internal static double[]? ParseTimes(string? text, string option = "--student-times")
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
            double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double t) && double.IsFinite(t)
                ? t : throw new CliException($"{option}: '{part}' is not a number.")).ToArray();
    }

    internal static int[] ParseBatchSizes(string text) => ParseList(text, "--batch-sizes", 4096);

    internal static int[] ParseList(string text, string option, int max)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, out int value) || value < 1 || value > max)
                throw new CliException($"{option}: '{part}' is not a whole number in [1, {max}].");
            values.Add(value);
        }
        if (values.Count == 0) throw new CliException($"{option}: give at least one value, e.g. 1,8,64.");
        return [.. values];
    }
}
