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
