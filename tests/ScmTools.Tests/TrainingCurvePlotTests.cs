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

    [Fact]
    public void An_empty_curve_writes_no_file()
    {
        string path = Path.Combine(directory, "empty.png");
        TrainingCurvePlot.Save([], "empty", path);
        Assert.False(File.Exists(path));
    }

    static int PixelsOf(string png, byte r, byte g, byte b)
    {
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal((900, 700), (bitmap.Width, bitmap.Height));
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (Math.Abs(c.Red - r) <= 8 && Math.Abs(c.Green - g) <= 8 && Math.Abs(c.Blue - b) <= 8) count++;
            }
        return count;
    }
}
