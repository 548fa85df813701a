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
        bench.Subcommands.Add(ClusterBench.Command());
        return bench;
    }

    internal static string DefaultModel => Path.Combine(RepoPaths.Models, "mnist-scm", "model.json");

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

    internal static int[] ParseBatchSizes(string text)
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

    internal static Task<int> Run(Action bench) => Task.Run(() =>
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
}
