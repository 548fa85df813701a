using System.Globalization;
using System.Text.RegularExpressions;
using ScmTools;

namespace ScmTools.Tests;

/// <summary>`scm-tools eval` on the shipped models, at a size a test can afford (20 digits per row).</summary>
public sealed partial class EvalCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("eval-command-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>
    /// The report states how much the sCM figures move with the noise: the rows again on the next seeds, as mean and
    /// range, with the table's own seed inside the range; the teacher's 63-NFE row on the first of them when asked, and
    /// the FD ratios of means divide by the teacher's mean. The student's seeds are judged before the teacher's rows.
    /// </summary>
    [Fact]
    public async Task Eval_reports_the_sCM_rows_and_the_teacher_over_several_noise_seeds()
    {
        Assert.True(Scm.Training.MnistDigits.IsPresent(RepoPaths.Data), $"MNIST is missing in {RepoPaths.Data}: run infra/fetch-mnist.sh");
        string report = Path.Combine(directory, "QUALITY.md");
        string grid = Path.Combine(directory, "samples.png");
        var (exit, log, errors) = await CommandLine.InvokeCapturingOutput(EvalCommands.Create(),
            "eval", "--samples", "20", "--batch-size", "10", "--threads", "1", "--noise-seeds", "3", "--teacher-noise-seeds", "2", "--output", report, "--grid", grid);

        Assert.True(exit == 0, errors);
        // The student's seeds take seconds, the teacher's minutes: the student's means are on the log before the teacher starts.
        int studentMeans = log.IndexOf(", over 3 noise seeds: class accuracy", StringComparison.Ordinal);
        int teacherStart = log.IndexOf("Teacher PF-ODE, DPM-Solver++(2M), 2 steps", StringComparison.Ordinal);
        Assert.True(studentMeans >= 0 && teacherStart > studentMeans, log);
        string text = File.ReadAllText(report);
        Assert.Contains("over 3 noise seeds (2024..2026)", text);
        if (Scm.Checkpoints.Checkpoint.ReadCard(Path.Combine(RepoPaths.Models, "mnist-scm", "model.json")).TMid is { } tMid) // rows name the card's t_mid
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"| sCM 2-step (t_mid {tMid:G3}) |"), text);
        double tableFd = Number(Regex.Match(text, @"^\| sCM 2-step(?: \(t_mid [\d.]+\))? \| 2 \| [\d.]+ % \| ([\d.]+) \|", RegexOptions.Multiline), 1);
        var spread = SpreadRow().Match(text);
        Assert.True(spread.Success, text);
        var (accuracyMean, accuracyMin, accuracyMax) = (Number(spread, 1), Number(spread, 2), Number(spread, 3));
        var (fdMean, fdMin, fdMax) = (Number(spread, 4), Number(spread, 5), Number(spread, 6));
        Assert.InRange(accuracyMean, accuracyMin, accuracyMax);
        Assert.InRange(fdMean, fdMin, fdMax);
        Assert.InRange(tableFd, fdMin, fdMax);
        Assert.True(fdMin < fdMax, "other seeds must give other digits");
        var teacher = TeacherSpreadRow().Match(text);
        Assert.True(teacher.Success, text);
        double teacherTableFd = Number(Regex.Match(text, @"^\| Teacher PF-ODE, DPM-Solver\+\+\(2M\), 63 steps \| 63 \| [\d.]+ % \| ([\d.]+) \|", RegexOptions.Multiline), 1);
        Assert.InRange(teacherTableFd, Number(teacher, 2), Number(teacher, 3));
        var ratio = Regex.Match(text, @"mean FD over 3 noise seeds / the teacher's over its 2: \*\*([\d.]+)\*\*");
        Assert.True(ratio.Success, text);
        Assert.Equal(fdMean / Number(teacher, 1), Number(ratio, 1), 0.006); // printed to 2 decimals
        Assert.Contains("sCM 1-step / teacher 63 NFE", text);
        var paired = Regex.Match(text, @"seed by seed \(the same noise\) its FD minus the teacher's: ([+-][\d.]+) \+- ([\d.]+) \(standard error over 2 seeds\)");
        Assert.True(paired.Success, text);
        Assert.True(Number(paired, 2) >= 0);
        using var png = SkiaSharp.SKBitmap.Decode(grid); // held-out | teacher | 2-step | 1-step, 10 class rows of 64-px digits
        Assert.Equal((4 * SampleGrid.Columns * 64 + 3 * 8, 10 * 64), (png.Width, png.Height));
    }

    [Fact]
    public async Task Eval_with_no_noise_seed_exits_2_naming_the_option()
    {
        var (exit, errors) = await Invoke("eval", "--noise-seeds", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--noise-seeds", errors);
        Assert.DoesNotContain("   at ", errors);
    }

    [Fact]
    public async Task Eval_with_more_teacher_seeds_than_noise_seeds_exits_2_naming_the_option()
    {
        var (exit, errors) = await Invoke("eval", "--noise-seeds", "3", "--teacher-noise-seeds", "4");

        Assert.Equal(2, exit);
        Assert.Contains("--teacher-noise-seeds", errors);
        Assert.DoesNotContain("   at ", errors);
    }

    [GeneratedRegex(@"^\| Teacher PF-ODE, DPM-Solver\+\+\(2M\), 63 steps \(2 seeds\) \| [\d.]+ % \([\d.]+\.\.[\d.]+\) \| ([\d.]+) \(([\d.]+)\.\.([\d.]+)\) \|", RegexOptions.Multiline)]
    private static partial Regex TeacherSpreadRow();

    [GeneratedRegex(@"^\| sCM 2-step(?: \(t_mid [\d.]+\))? \| ([\d.]+) % \(([\d.]+)\.\.([\d.]+)\) \| ([\d.]+) \(([\d.]+)\.\.([\d.]+)\) \|", RegexOptions.Multiline)]
    private static partial Regex SpreadRow();

    static double Number(Match match, int group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    static Task<(int Exit, string Errors)> Invoke(params string[] args) => CommandLine.Invoke(EvalCommands.Create(), args);
}
