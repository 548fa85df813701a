using System.CommandLine;
using Scm.Network;
using Scm.Training;

namespace Cli;

/// <summary>`scm train teacher` and `scm train scd`: resumable, seeded, with a progress line.</summary>
public static class TrainCommands
{
    /// <summary>The shipped MNIST architecture (~1M parameters): sized so teacher + sCD train in ~3 h on 2 cores.</summary>
    public static NetworkConfig MnistNetwork => new()
    {
        Resolution = 32, ImageChannels = 1, ModelChannels = 32, ChannelMultipliers = [1, 2, 2], BlocksPerLevel = 1,
        AttentionResolutions = [8], NumClasses = 10, Dropout = 0, GroupNormGroups = 8, LogVarianceHead = true,
    };

    public static Command Create()
    {
        var train = new Command("train", "Train the TrigFlow teacher or distil it into an sCM (resumable).");
        train.Subcommands.Add(Teacher());
        train.Subcommands.Add(Scd());
        return train;
    }

    sealed record Common(Option<string> Run, Option<string> Data, Option<long> Iterations, Option<int> Batch, Option<double> Lr,
        Option<ulong> Seed, Option<int> Every, Option<int> Threads, Option<string> Device, Option<double> EmaDecay);

    static Common AddCommon(Command command, string defaultRun, long iterations, int batch, double lr, double emaDecay)
    {
        var common = new Common(
            new Option<string>("--run") { Description = "Run directory (resumes if it holds a checkpoint).", DefaultValueFactory = _ => Path.Combine(RepoPaths.Runs, defaultRun) },
            new Option<string>("--data") { Description = "MNIST folder (infra/fetch-mnist.sh).", DefaultValueFactory = _ => RepoPaths.Data },
            new Option<long>("--iterations") { Description = "Total iterations.", DefaultValueFactory = _ => iterations },
            new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => batch },
            new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => lr },
            new Option<ulong>("--seed") { Description = "Seed of every random draw.", DefaultValueFactory = _ => 1UL },
            new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints.", DefaultValueFactory = _ => 250 },
            new Option<int>("--threads") { Description = "Torch threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount },
            new Option<string>("--device") { Description = "Torch device: cpu, cuda, cuda:1 ...", DefaultValueFactory = _ => "cpu" },
            new Option<double>("--ema-decay") { Description = "EMA decay per iteration.", DefaultValueFactory = _ => emaDecay });
        foreach (var option in new Option[] { common.Run, common.Data, common.Iterations, common.Batch, common.Lr, common.Seed, common.Every, common.Threads, common.Device, common.EmaDecay })
            command.Options.Add(option);
        return common;
    }

    static TrainingOptions Options(ParseResult r, Common c, double pMean, double pStd) => new()
    {
        RunDirectory = r.GetValue(c.Run)!, DataDirectory = r.GetValue(c.Data)!, Iterations = r.GetValue(c.Iterations),
        BatchSize = r.GetValue(c.Batch), LearningRate = r.GetValue(c.Lr), Seed = r.GetValue(c.Seed),
        CheckpointEvery = r.GetValue(c.Every), Threads = r.GetValue(c.Threads), Device = r.GetValue(c.Device)!,
        PMean = pMean, PStd = pStd, EmaDecay = r.GetValue(c.EmaDecay),
    };

    static Command Teacher()
    {
        var command = new Command("teacher", "Train the TrigFlow diffusion teacher on MNIST.");
        var common = AddCommon(command, "teacher", iterations: 5000, batch: 64, lr: 5e-4, emaDecay: 0.999);
        command.SetAction((r, ct) => Run(() =>
        {
            var options = Options(r, common, pMean: -0.8, pStd: 1.6);
            var data = LoadData(options.DataDirectory);
            return new TeacherTrainer(options, MnistNetwork, data).Run(Console.Out, ct);
        }));
        return command;
    }

    static Command Scd()
    {
        var command = new Command("scd", "Distil the teacher into a continuous-time consistency model (sCD).");
        var common = AddCommon(command, "scd", iterations: 2000, batch: 32, lr: 1e-4, emaDecay: 0.995);
        var teacher = new Option<string>("--teacher") { Description = "Teacher model card.", DefaultValueFactory = _ => Path.Combine(RepoPaths.Runs, "teacher", "ema", "model.json") };
        var warmup = new Option<int>("--tangent-warmup") { Description = "Tangent warmup iterations H.", DefaultValueFactory = _ => 500 };
        var prior = new Option<bool>("--prior-weighting") { Description = "Use w(t) = 1/(sigma_data tan t)." };
        command.Options.Add(teacher);
        command.Options.Add(warmup);
        command.Options.Add(prior);
        command.SetAction((r, ct) => Run(() =>
        {
            var options = Options(r, common, pMean: -1.0, pStd: 1.4);
            var data = LoadData(options.DataDirectory);
            var scd = new ScdOptions { TeacherCardPath = r.GetValue(teacher)!, TangentWarmup = r.GetValue(warmup), PriorWeighting = r.GetValue(prior) };
            return new ScdTrainer(options, scd, data).Run(Console.Out, ct);
        }));
        return command;
    }

    static MnistDigits LoadData(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "9.json"))) throw new CliException(MnistDigits.MissingDataMessage(directory));
        return MnistDigits.Load(directory);
    }

    static Task<int> Run(Func<string> train)
    {
        return Task.Run(() =>
        {
            try
            {
                string card = train();
                Console.WriteLine($"EMA checkpoint: {card}");
                return 0;
            }
            catch (CliException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
    }
}

/// <summary>An error for the user: printed without a stack trace.</summary>
public sealed class CliException(string message) : Exception(message);
