using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace ScmTools;

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

    /// <summary>
    /// Waits until every kernel queued on <paramref name="device"/> has finished; call it before reading a clock.
    /// CUDA kernels run asynchronously, so without it a clock measures how fast work is queued, not done.
    /// A CPU device runs synchronously already.
    /// </summary>
    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) TorchSharp.torch.cuda.synchronize(device);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with <paramref name="clock"/> running, the device synchronised before and after it so
    /// the clock holds the device's work, not just its queueing.
    /// </summary>
    public static T Timed<T>(Stopwatch clock, Device device, Func<T> work)
    {
        Synchronize(device);
        clock.Start();
        var result = work();
        Synchronize(device);
        clock.Stop();
        return result;
    }

    /// <summary>
    /// A rate with at least 3 significant digits ("6734", "98.4", "0.31"): a GPU's images/s spans 1 to 100,000,
    /// and seconds per image rounded to 4 decimals (0.0001 s) could not tell 6,700 from 14,000 images/s.
    /// </summary>
    public static string Rate(double perSecond) =>
        perSecond >= 100 ? perSecond.ToString("F0", CultureInfo.InvariantCulture) : perSecond.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>The machine, and the 1-minute load average at start and now: timings on a shared machine depend on it.</summary>
    public static string MachineAndLoad(string loadAtStart) =>
        BenchmarkLog.Machine() + $"; load average {loadAtStart} -> {BenchmarkLog.LoadAverage()}";

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
/// A square fp32 matmul timed one call at a time, so that a bench can interleave ceiling probes with what it
/// measures: both then see the same background load, and the ratio of their best rates stays comparable on a
/// busy machine. On a GPU the probe is larger (<see cref="SizeFor"/>): a 1024x1024 product takes tens of
/// microseconds there, too close to the launch cost to show the device's rate.
/// </summary>
public sealed class MatmulProbe : IDisposable
{
    readonly Device device;
    readonly double flopsPerCall;
    readonly Tensor a, b;

    public MatmulProbe(Device device)
    {
        this.device = device;
        Size = SizeFor(device);
        flopsPerCall = 2.0 * Size * Size * Size;
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(0);
        a = randn(Size, Size, generator: generator).to(device);
        b = randn(Size, Size, generator: generator).to(device);
        a.matmul(b).Dispose(); // first call: MKL/oneDNN or cuBLAS initialisation and buffers
        Measure.Synchronize(device);
    }

    /// <summary>The matrices' side: 1024 on a CPU, 4096 on a GPU.</summary>
    public long Size { get; }

    public static long SizeFor(Device device) => device.type == DeviceType.CUDA ? 4096 : 1024;

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
            Measure.Synchronize(device);
            BestGflops = Math.Max(BestGflops, flopsPerCall / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
        }
    }

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
    }
}
