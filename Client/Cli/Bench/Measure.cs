using System.Diagnostics;
using static TorchSharp.torch;

namespace Cli;

/// <summary>Measurements shared by the bench subcommands.</summary>
public static class Measure
{
    /// <summary>Best rate of a 1024x1024 fp32 matmul over about a second: the machine's practical GEMM ceiling now.</summary>
    public static double MatmulGflops(CancellationToken ct, double seconds = 1.0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(0);
        var a = randn(1024, 1024);
        var b = randn(1024, 1024);
        a.matmul(b).Dispose();
        double best = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            ct.ThrowIfCancellationRequested();
            long start = Stopwatch.GetTimestamp();
            a.matmul(b).Dispose();
            best = Math.Max(best, 2.0 * 1024 * 1024 * 1024 / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>The machine, and the 1-minute load average at start and now: timings on a shared machine depend on it.</summary>
    public static string MachineAndLoad(string? loadAtStart) =>
        BenchmarkLog.Machine() + (loadAtStart is null ? "" : $"; load average {loadAtStart} -> {EvalCommands.LoadAverage()}");

    /// <summary>Live TorchSharp tensors and process RSS, after a full GC so that only reachable tensors count.</summary>
    public static (long LiveTensors, double ResidentMiB) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (Tensor.TotalCount, process.WorkingSet64 / 1048576.0);
    }
}

/// <summary>
/// A 1024x1024 fp32 matmul timed one call at a time, so that a bench can interleave ceiling probes with what it
/// measures: both then see the same background load, and the ratio of their best rates stays comparable on a
/// busy machine.
/// </summary>
public sealed class MatmulProbe : IDisposable
{
    const long Size = 1024;
    const double FlopsPerCall = 2.0 * Size * Size * Size;
    readonly Tensor a, b;

    public MatmulProbe()
    {
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(0);
        a = randn(Size, Size, generator: generator);
        b = randn(Size, Size, generator: generator);
        a.matmul(b).Dispose(); // first call: MKL/oneDNN initialisation and buffers
    }

    /// <summary>Highest rate seen so far, GFLOP/s (0 before the first <see cref="Sample"/>).</summary>
    public double BestGflops { get; private set; }

    /// <summary>Times <paramref name="calls"/> single matmuls and keeps the best rate.</summary>
    public void Sample(int calls, CancellationToken ct)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < calls; i++)
        {
            ct.ThrowIfCancellationRequested();
            long start = Stopwatch.GetTimestamp();
            a.matmul(b).Dispose();
            BestGflops = Math.Max(BestGflops, FlopsPerCall / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
        }
    }

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
    }
}
