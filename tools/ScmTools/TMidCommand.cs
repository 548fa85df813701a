using System.CommandLine;
using System.Globalization;
using Scm;
using Scm.Checkpoints;
using Scm.Evaluation;
using Scm.Sampling;
using static TorchSharp.torch;

namespace ScmTools;

/// <summary>
/// `scm-tools train t-mid`: where a consistency model's 2-step sampler should re-noise (t_mid), chosen on the validation
/// split, never the held-out digits. A model whose 1-step is sharp needs less of its first sample re-drawn than sCM's
/// default 1.1 assumes. Several cards (e.g. a run's snapshots) are judged in one process on the same fixed noise as the
/// training curve, so a (checkpoint, t_mid) pair is selected by one table; --write records each card's best t_mid.
/// One seed of a few hundred samples moves the FD by more than the gains between neighbouring snapshots, so
/// --noise-seeds judges every cell on several noise draws (the curve's seed first) and ranks by their mean.
/// </summary>
public static class TMidCommand
{
    public static Command Create()
    {
        var command = new Command("t-mid", "Choose a consistency model's 2-step t_mid on the validation split (2-step FD per candidate time).");
        var students = new Option<string[]>("--student")
        {
            Description = "sCM model card(s) to judge, e.g. a run's snapshots (each gets its own best t_mid).", Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var times = new Option<string>("--times")
        {
            Description = "Candidate t_mid values, comma-separated, each in (0, t_max).", DefaultValueFactory = _ => "0.4,0.5,0.6,0.7,0.8,1.1"
        };
        var samples = new Option<int>("--validation-samples") { Description = "Samples per measurement (a multiple of 10).", DefaultValueFactory = _ => 500 };
        var data = new Option<string>("--data") { Description = "MNIST folder (infra/fetch-mnist.sh).", DefaultValueFactory = _ => RepoPaths.Data };
        var classifier = new Option<string>("--classifier") { Description = "Evaluation classifier folder.", DefaultValueFactory = _ => Path.Combine(RepoPaths.Models, "mnist-classifier") };
        var threads = new Option<int>("--threads") { Description = "Torch threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var noiseSeeds = new Option<int>("--noise-seeds")
        {
            Description = $"Noise draws per cell (seeds {ValidationProbe.CurveSeed}, {ValidationProbe.CurveSeed + 1}, ...; the first is the training curve's): " +
                          $"each cell is the mean, +- half the range, and the best t_mid is the lowest mean. In [1, {MaxNoiseSeeds}].",
            DefaultValueFactory = _ => 1,
        };
        var write = new Option<bool>("--write") { Description = "Write each card's best t_mid into it (the weights are not touched)." };
        foreach (var option in new Option[] { students, times, samples, noiseSeeds, data, classifier, threads, write }) command.Options.Add(option);
        command.SetAction((r, ct) => CliExit.Run(() =>
            Choose(r.GetValue(students)!, ParseTimes(r.GetValue(times)!), r.GetValue(samples), r.GetValue(noiseSeeds), r.GetValue(data)!, r.GetValue(classifier)!,
            r.GetValue(threads), r.GetValue(write), ct), Console.Error));
        return command;
    }

    const int MaxNoiseSeeds = 20;

    internal static double[] ParseTimes(string text)
    {
        var values = BenchCommands.ParseTimes(text, "--times") ?? [];
        foreach (double t in values)
            if (!(t > 0 && t < TrigFlow.TMax)) throw new CliException($"--times: {t.ToString(CultureInfo.InvariantCulture)} is outside (0, {TrigFlow.TMax:F4}).");
        return values.Length > 0 ? values.Distinct().ToArray() : throw new CliException("--times: name at least one time.");
    }

    static void Choose(string[] cardPaths, double[] times, int samples, int noiseSeeds, string dataDirectory, string classifierFolder, int threads,
        bool write, CancellationToken cancellationToken)
    {
        if (threads < 1) throw new CliException($"--threads must be >= 1; got {threads}.");
        if (noiseSeeds is < 1 or > MaxNoiseSeeds) throw new CliException($"--noise-seeds must be in [1, {MaxNoiseSeeds}]; got {noiseSeeds}.");
        // Every card is read before any sampling: a bad path fails at once, not after minutes of work.
        var cards = cardPaths.Select(path => (Path: path, Card: Checkpoint.ReadCard(path))).ToList();
        foreach (var (path, card) in cards)
            if (card.Kind != ModelCard.ConsistencyKind) throw new CliException($"{path} is a '{card.Kind}' model; t_mid belongs to consistency models.");
        set_num_threads(threads);
        var digits = TrainCommands.LoadData(dataDirectory);
        var probes = Enumerable.Range(0, noiseSeeds)
            .Select(k => TrainCommands.ValidationProbeFor(classifierFolder, digits, samples, "cpu", ValidationProbe.CurveSeed + (ulong)k)).ToList();
        try
        {
            int width = noiseSeeds == 1 ? 16 : 22;
            Console.WriteLine(noiseSeeds == 1
                ? $"2-step validation FD (accuracy) per t_mid; {samples} samples, the training curve's fixed noise; * = the card's best:"
                : $"2-step validation FD (accuracy) per t_mid; {samples} samples, mean +- half range over {noiseSeeds} noise seeds " +
                  $"({ValidationProbe.CurveSeed}..{ValidationProbe.CurveSeed + (ulong)noiseSeeds - 1}); * = the card's best (lowest mean):");
            Console.WriteLine($"{"card",-40} {"1-step".PadLeft(width)} " + string.Join(" ", times.Select(t => ("t=" + t.ToString("G3", CultureInfo.InvariantCulture)).PadLeft(width))));
            foreach (var (path, _) in cards)
            {
                var (network, card) = Checkpoint.Load(path, CPU);
                using (network)
                {
                    Cell Judge(SamplingSchedule schedule) => new([.. probes.Select(probe => probe.Measure(network, schedule, cancellationToken))]);
                    var oneStep = Judge(SamplingSchedule.ForSteps(1));
                    var twoStep = times.Select(t => Judge(SamplingSchedule.ForSteps(2, tMid: t))).ToArray();
                    int best = Enumerable.Range(0, twoStep.Length).MinBy(i => twoStep[i].MeanFd);
                    Console.WriteLine($"{Shorten(path),-40} {(oneStep + " ").PadLeft(width)} " + string.Join(" ", twoStep.Select((cell, i) => (cell + (i == best ? "*" : " ")).PadLeft(width))));
                    if (write) Checkpoint.SaveCard(card with { TMid = times[best] }, path);
                }
            }
            if (write) Console.WriteLine("Each card's best t_mid is written into it.");
        }
        finally
        {
            foreach (var probe in probes) probe.Dispose();
        }
    }

    /// <summary>One sampler setting judged on every noise seed: mean FD and accuracy, and how far one seed moves the FD.</summary>
    sealed record Cell(IReadOnlyList<SampleQuality> Seeds)
    {
        public double MeanFd => Seeds.Average(q => q.FrechetDistance);

        public override string ToString()
        {
            double accuracy = Seeds.Average(q => q.Accuracy), halfRange = (Seeds.Max(q => q.FrechetDistance) - Seeds.Min(q => q.FrechetDistance)) / 2;
            return Seeds.Count == 1
                ? string.Create(CultureInfo.InvariantCulture, $"{MeanFd:F3} ({100 * accuracy:F1}%)")
                : string.Create(CultureInfo.InvariantCulture, $"{MeanFd:F3}+-{halfRange:F3} ({100 * accuracy:F1}%)");
        }
    }

    static string Shorten(string path) => path.Length <= 40 ? path : "..." + path[^37..];
}
