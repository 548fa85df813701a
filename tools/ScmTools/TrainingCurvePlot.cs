using System.Globalization;
using Scm.Training;
using ScottPlot;

namespace ScmTools;

/// <summary>Draws a run's validation curve (1- and 2-step FD on a log axis, class accuracy below) as a PNG.</summary>
public static class TrainingCurvePlot
{
    /// <summary>
    /// SkiaSharp's "NoDependencies" native build has no fontconfig, so fonts cannot be found by family name and text
    /// would not be drawn: register a system TrueType font by file once (DejaVu Sans on Debian/Ubuntu).
    /// </summary>
    static readonly bool FontRegistered = RegisterFont();

    static bool RegisterFont()
    {
        string[] candidates = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"];
        string? file = candidates.FirstOrDefault(File.Exists);
        if (file is null) return false;
        Fonts.AddFontFile("DejaVu Sans", file, bold: false, italic: false);
        // Titles and axis labels are bold: without the bold face registered too they are silently not drawn.
        string bold = file.Replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", StringComparison.Ordinal);
        if (File.Exists(bold)) Fonts.AddFontFile("DejaVu Sans", bold, bold: true, italic: false);
        Fonts.Default = "DejaVu Sans";
        return true;
    }

    public static void Save(IReadOnlyList<CurvePoint> points, string title, string pngPath)
    {
        if (points.Count == 0) return;
        _ = FontRegistered;
        double[] iterations = points.Select(p => (double)p.Iteration).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();

        var fd = multiplot.GetPlot(0);
        fd.Title(title);
        AddLine(fd, iterations, points.Select(p => Math.Log10(p.OneStepFd)), "1-step", Colors.OrangeRed);
        AddLine(fd, iterations, points.Select(p => Math.Log10(p.TwoStepFd)), "2-step", Colors.SteelBlue);
        foreach (var (tMid, color) in ProbedTMids(points))
            AddProbeLine(fd, points, tMid, p => Math.Log10(p.Fd), color);
        fd.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
        };
        fd.YLabel("validation FD (log)");
        fd.ShowLegend(Alignment.UpperRight);

        var accuracy = multiplot.GetPlot(1);
        AddLine(accuracy, iterations, points.Select(p => 100 * p.OneStepAccuracy), "1-step", Colors.OrangeRed);
        AddLine(accuracy, iterations, points.Select(p => 100 * p.TwoStepAccuracy), "2-step", Colors.SteelBlue);
        foreach (var (tMid, color) in ProbedTMids(points))
            AddProbeLine(accuracy, points, tMid, p => 100 * p.Accuracy, color);
        accuracy.YLabel("class accuracy (%)");
        accuracy.XLabel("sCD iteration");
        accuracy.ShowLegend(Alignment.LowerRight);

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pngPath))!);
        multiplot.SavePng(pngPath, 900, 700);
    }

    static readonly Color[] ProbeColors = [Colors.SeaGreen, Colors.MediumPurple, Colors.GoldenRod, Colors.Teal, Colors.HotPink, Colors.SlateGray, Colors.Olive, Colors.Navy];

    /// <summary>The extra 2-step t_mid of <c>--probe-t-mids</c> found in the points, each with its colour.</summary>
    static IEnumerable<(double TMid, Color Color)> ProbedTMids(IReadOnlyList<CurvePoint> points) =>
        points.SelectMany(p => p.TwoStepAt ?? []).Select(p => p.TMid).Distinct().Order().Select((t, i) => (t, ProbeColors[i % ProbeColors.Length]));

    /// <summary>A dashed line for the 2-step at one probed t_mid, over the points that measured it.</summary>
    static void AddProbeLine(Plot plot, IReadOnlyList<CurvePoint> points, double tMid, Func<TMidPoint, double> value, Color color)
    {
        var measured = points.Select(p => (p.Iteration, At: p.TwoStepAt?.FirstOrDefault(q => q.TMid == tMid))).Where(p => p.At is not null).ToList();
        var line = AddLine(plot, measured.Select(p => (double)p.Iteration).ToArray(), measured.Select(p => value(p.At!)),
            "2-step at t_mid " + tMid.ToString("G3", CultureInfo.InvariantCulture), color);
        line.LinePattern = LinePattern.Dashed;
    }

    static ScottPlot.Plottables.Scatter AddLine(Plot plot, double[] xs, IEnumerable<double> ys, string label, Color color)
    {
        var line = plot.Add.ScatterLine(xs, ys.ToArray());
        line.LegendText = label;
        line.Color = color;
        line.MarkerSize = 4;
        return line;
    }
}
