using Scm.Training;
using ScmTools;

namespace ScmTools.Tests;

/// <summary>The curve PNG that `train scd` redraws at every validation point.</summary>
public sealed class TrainingCurvePlotTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("curve-plot-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static CurvePoint Point(long iteration, double fd, IReadOnlyList<TMidPoint>? probes = null) =>
        new(iteration, iteration, 0.1, 0.9, 10 * fd, 0.95, fd, probes);

    /// <summary>--probe-t-mids draws one more line per t_mid (in its own colour), also where early points lack it (a resumed run that added it).</summary>
    [Fact]
    public void A_curve_with_probed_t_mids_draws_a_line_for_each()
    {
        string plain = Path.Combine(directory, "plain.png"), probed = Path.Combine(directory, "probed.png");
        var points = new[] { Point(100, 2.0), Point(200, 1.5), Point(300, 1.2) };
        TrainingCurvePlot.Save(points, "plain", plain);
        TrainingCurvePlot.Save([points[0], .. points.Skip(1).Select(p => p with { TwoStepAt = [new TMidPoint(0.5, 0.97, p.TwoStepFd / 2)] })], "probed", probed);

        Assert.Equal(0, PixelsOf(plain, 46, 139, 87));
        Assert.True(PixelsOf(probed, 46, 139, 87) > 20, "the t_mid 0.5 line (SeaGreen) is missing");
    }

    /// <summary>Titles and axis labels are bold: they are drawn only if a bold face is registered (none draws no text at all, silently).</summary>
    [Fact]
    public void The_title_is_drawn()
    {
        string untitled = Path.Combine(directory, "untitled.png"), titled = Path.Combine(directory, "titled.png");
        var points = new[] { Point(100, 2.0), Point(200, 1.5) };
        TrainingCurvePlot.Save(points, "", untitled);
        TrainingCurvePlot.Save(points, "validation curve of run dmdV", titled);

        Assert.True(PixelsOf(titled, 0, 0, 0, tolerance: 80) > PixelsOf(untitled, 0, 0, 0, tolerance: 80) + 100, "the title's text is missing");
    }

    /// <summary>`train plot` draws a stopped run's curve.jsonl again (the run's own curve.png by default, or --output).</summary>
    [Fact]
    public async Task Train_plot_draws_a_run_s_curve_again()
    {
        var curve = new TrainingCurve(directory);
        foreach (var point in new[] { Point(100, 2.0), Point(200, 1.5) }) curve.Append(point);
        string png = Path.Combine(directory, "docs-curve.png");

        var (exit, output, errors) = await CommandLine.InvokeCapturingOutput(TrainCommands.Create(), "train", "plot", "--run", directory, "--output", png);

        Assert.True(exit == 0, errors);
        Assert.Contains("2 validation points (100..200)", output);
        Assert.True(PixelsOf(png, 70, 130, 180) > 20, "the 2-step line (SteelBlue) is missing");
        Assert.Equal(2, TrainingCurve.Read(directory).Count); // reading leaves the curve as it was
    }

    [Fact]
    public async Task Train_plot_of_a_folder_without_a_curve_exits_2_naming_the_run()
    {
        var (exit, errors) = await CommandLine.Invoke(TrainCommands.Create(), "train", "plot", "--run", directory);

        Assert.Equal(2, exit);
        Assert.Contains("--run", errors);
        Assert.Contains("no validation curve", errors);
        Assert.DoesNotContain("   at ", errors);
    }

    [Fact]
    public void An_empty_curve_writes_no_file()
    {
        string path = Path.Combine(directory, "empty.png");
        TrainingCurvePlot.Save([], "empty", path);
        Assert.False(File.Exists(path));
    }

    static int PixelsOf(string png, byte r, byte g, byte b, int tolerance = 8)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal((900, 700), (bitmap.Width, bitmap.Height));
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (Math.Abs(c.Red - r) <= tolerance && Math.Abs(c.Green - g) <= tolerance && Math.Abs(c.Blue - b) <= tolerance) count++;
            }
        return count;
    }
}
