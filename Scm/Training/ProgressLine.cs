using System.Diagnostics;

namespace Scm.Training;

/// <summary>
/// A one-line progress bar (iteration, loss, it/s, ETA). Redraws in place on a terminal; writes a plain line
/// every few seconds when output goes to a log file (background training).
/// </summary>
public sealed class ProgressLine(string label, long total, long start, TextWriter output)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly bool interactive = !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);
    TimeSpan lastDraw = TimeSpan.FromDays(-1);
    double smoothedLoss = double.NaN;

    public void Report(long iteration, double loss, bool force = false)
    {
        smoothedLoss = double.IsNaN(smoothedLoss) ? loss : 0.98 * smoothedLoss + 0.02 * loss;
        var interval = interactive ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(15);
        if (!force && clock.Elapsed - lastDraw < interval) return;
        lastDraw = clock.Elapsed;
        double rate = (iteration - start) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var eta = rate > 0 ? TimeSpan.FromSeconds((total - iteration) / rate) : TimeSpan.Zero;
        int width = 24, filled = (int)(width * iteration / Math.Max(total, 1));
        string line = $"[{label}] [{new string('#', filled)}{new string('.', width - filled)}] {iteration}/{total} " +
                      $"loss {smoothedLoss:F4}  {rate:F2} it/s  ETA {eta:hh\\:mm\\:ss}";
        if (interactive) output.Write("\r" + line.PadRight(100));
        else output.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");
        if (interactive && iteration >= total) output.WriteLine();
    }
}
