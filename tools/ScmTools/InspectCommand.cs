using System.CommandLine;
using Scm;
using Scm.Checkpoints;
using Scm.Evaluation;
using Scm.Network;
using Scm.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ScmTools;

/// <summary>
/// `scm-tools train inspect`: the health of an sCD run's saved state, which the training curve (EMA only) does not show:
/// the online weights' quality next to the EMA's, the consistency map at single times t (<see cref="NoisedDigitProbe"/>),
/// and the finite-difference JVP's error on the online weights.
/// </summary>
public static class InspectCommand
{
    static readonly double[] Times = [0.2, 0.5, 0.8, 1.1, 1.3, 1.45, 1.52];
    /// <summary>Where the 2-step sampler's second evaluation can sit (t_mid; the default is 1.1).</summary>
    static readonly double[] MapTimes = [0.8, 1.1, 1.3, 1.45];

    public static Command Create()
    {
        var command = new Command("inspect", "Inspect an sCD run's saved state: online vs EMA validation quality, finite-difference vs exact JVP on the online weights.");
        var run = new Option<string>("--run") { Description = "Run directory of `train scd`.", Required = true };
        var teacherOption = new Option<string?>("--teacher") { Description = "Teacher model card (default: the one the run was initialised from)." };
        var data = new Option<string>("--data") { Description = "MNIST folder (infra/fetch-mnist.sh).", DefaultValueFactory = _ => RepoPaths.Data };
        var classifier = new Option<string>("--classifier") { Description = "Evaluation classifier folder.", DefaultValueFactory = _ => Path.Combine(RepoPaths.Models, "mnist-classifier") };
        var samples = new Option<int>("--validation-samples") { Description = "Samples per validation measurement (a multiple of 10).", DefaultValueFactory = _ => 500 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        foreach (var option in new Option[] { run, teacherOption, data, classifier, samples, threads }) command.Options.Add(option);
        command.SetAction((r, ct) => CliExit.Run(() =>
            Inspect(r.GetValue(run)!, r.GetValue(teacherOption), r.GetValue(data)!, r.GetValue(classifier)!, r.GetValue(samples), r.GetValue(threads), ct), Console.Error));
        return command;
    }

    static void Inspect(string runDirectory, string? teacherCard, string dataDirectory, string classifierFolder, int samples, int threads,
        CancellationToken cancellationToken)
    {
        var run = new RunState(runDirectory);
        string cardPath = run.EmaCardPath;
        if (!File.Exists(cardPath)) throw new CliException($"{runDirectory} holds no saved run ({cardPath} is missing).");
        var card = Checkpoint.ReadCard(cardPath);
        if (card.Kind != ModelCard.ConsistencyKind) throw new CliException($"{runDirectory} is a '{card.Kind}' run; inspect reads sCD runs.");
        teacherCard ??= card.Training?.Teacher ?? card.Training?.InitializedFrom ?? throw new CliException($"{cardPath} does not name its teacher; pass --teacher.");
        if (threads < 1) throw new CliException($"--threads must be >= 1; got {threads}.");
        set_num_threads(threads);
        var progress = run.PeekProgress()
                       ?? throw new CliException($"{runDirectory} holds no saved training state (state/progress.json is missing).");
        var online = StateNetwork(card.Network, runDirectory, "online.safetensors");
        var ema = StateNetwork(card.Network, runDirectory, "ema.safetensors");
        var (teacher, _) = Checkpoint.Load(teacherCard, CPU);
        var digits = TrainCommands.LoadData(dataDirectory);

        Console.WriteLine($"{runDirectory} at iteration {progress.Iteration} (validation split, {samples} samples, fixed noise):");
        using (var probe = TrainCommands.ValidationProbeFor(classifierFolder, digits, samples, "cpu"))
        {
            foreach (var (name, network) in new[] { ("EMA", ema), ("online", online) })
            {
                var (one, two) = probe.Measure(network, card.TMid, cancellationToken);
                Console.WriteLine($"  {name,-6}  1-step {one.Accuracy,6:P1} FD {one.FrechetDistance,8:F3}   2-step {two.Accuracy,6:P1} FD {two.FrechetDistance,7:F3}");
            }
        }

        using (var noised = new NoisedDigitProbe(TrainCommands.LoadClassifier(classifierFolder, "cpu"), digits, samples / MnistDigits.Classes))
        {
            Console.WriteLine($"The map at t alone ({samples} fit digits noised to t and mapped back by f; FD against the validation digits; " +
                              $"the digits themselves: {noised.Digits.Accuracy:P1} FD {noised.Digits.FrechetDistance:F3}):");
            Console.WriteLine("     t   EMA acc.     FD   online acc.     FD");
            foreach (double t in MapTimes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (fromEma, fromOnline) = (noised.Measure(ema, t), noised.Measure(online, t));
                Console.WriteLine($"  {t,4:F2}   {fromEma.Accuracy,8:P1} {fromEma.FrechetDistance,6:F3}   {fromOnline.Accuracy,11:P1} {fromOnline.FrechetDistance,6:F3}");
            }
        }

        // 64 fit digits with their labels, and fixed noise: the draws of a training batch at fixed t.
        var generator = new Generator(42, CPU);
        var index = randint(0, digits.FitImages.shape[0], [64], generator: generator);
        var x0 = digits.FitImages.index_select(0, index);
        var labels = nn.functional.one_hot(digits.FitLabels.index_select(0, index), MnistDigits.Classes).to(float32);
        var z = randn(x0.shape, generator: generator) * TrigFlow.SigmaData;
        online.train();
        Console.WriteLine("Finite-difference JVP (h = 3e-3) vs exact, on the online weights (64 fit digits); rms(g): the inconsistency cos(t) df/dt:");
        Console.WriteLine("     t   JVP rel. err.   g rel. err.   cos(g_fd, g)   rms(g)");
        double guidance = card.Training?.Hyperparameters?.GetValueOrDefault("teacher_guidance", 1.0) ?? 1.0;
        if (guidance != 1.0) Console.WriteLine($"(along the teacher's ODE guided at {guidance:G3}, the scale the run distilled)");
        foreach (var row in JvpCheck.Measure(online, teacher, x0, labels, z, Times, guidance))
            Console.WriteLine($"  {row.T,4:F2}   {row.JvpError,12:E2}   {row.TangentError,11:E2}   {row.TangentCosine,12:F5}   {row.TangentRms,6:F3}");
    }

    static ScmUNet StateNetwork(NetworkConfig config, string runDirectory, string file)
    {
        string path = Path.Combine(runDirectory, "state", file);
        if (!File.Exists(path)) throw new CliException($"{path} is missing: the run's state is incomplete.");
        var network = new ScmUNet(config);
        network.load_safetensors(path);
        return network;
    }
}
