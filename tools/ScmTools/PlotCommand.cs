using System.CommandLine;
using Scm.Training;

namespace ScmTools;

/// <summary>
/// `scm-tools train plot`: draws a run's validation curve (<c>curve.jsonl</c>) again, e.g. for a run that has stopped,
/// into another file for the docs, or after the drawing itself changed. `train scd` draws the same picture as it goes.
/// </summary>
public static class PlotCommand
{
    public static Command Create()
    {
        var command = new Command("plot", "Draw a run's validation curve (curve.jsonl) as a PNG again.");
        var run = new Option<string>("--run") { Description = "Run directory of `train scd`.", Required = true };
        var output = new Option<string?>("--output") { Description = "PNG to write (default: curve.png in the run directory)." };
        command.Options.Add(run);
        command.Options.Add(output);
        command.SetAction((r, ct) => CliExit.Run(() =>
        {
            string directory = r.GetValue(run)!;
            var points = TrainingCurve.Read(directory);
            if (points.Count == 0)
                throw new CliException($"--run {directory} has no validation curve ({new TrainingCurve(directory).Path} is missing or empty; `train scd --evaluate-every N` writes it).");
            string png = r.GetValue(output) ?? Path.Combine(directory, "curve.png");
            TrainingCurvePlot.Save(points, Title(directory), png);
            Console.WriteLine($"{points.Count} validation points ({points[0].Iteration}..{points[^1].Iteration}) drawn to {png}");
        }, Console.Error));
        return command;
    }

    /// <summary>The curve's title: the run's folder name.</summary>
    public static string Title(string runDirectory) => $"sCD validation ({Path.GetFileName(Path.GetFullPath(runDirectory).TrimEnd('/'))})";
}
