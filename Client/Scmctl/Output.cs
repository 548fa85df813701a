using System.Diagnostics;
using ApiClient;

namespace Scmctl;

/// <summary>How jobs look on stdout: the status block and the live progress line.</summary>
public static class Output
{
    /// <summary>
    /// Follows the job to its end (see <see cref="ScmApiClient.WatchAsync"/>: reconnects through silo losses) and
    /// prints the terminal status; exit 0 when it completed, 3 when it failed or was cancelled.
    /// </summary>
    public static async Task<int> WatchAsync(ScmApiClient client, string jobId, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int firstFrames = -1;
        JobView? last = null;
        bool interactive = !Console.IsOutputRedirected;
        await foreach (var job in client.WatchAsync(jobId, ct))
        {
            if (last is not null && last.State == job.State && last.FramesDone == job.FramesDone && !interactive) continue; // a keep-alive
            if (firstFrames < 0) firstFrames = job.FramesDone;
            double rate = (job.FramesDone - firstFrames) / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
            var eta = rate > 0 ? TimeSpan.FromSeconds((job.FramesTotal - job.FramesDone) / rate) : (TimeSpan?)null;
            int width = 30, filled = job.FramesTotal == 0 ? 0 : width * job.FramesDone / job.FramesTotal;
            var line = $"{jobId} [{new string('#', filled)}{new string('.', width - filled)}] {job.FramesDone}/{job.FramesTotal} frames " +
                       $"{rate,6:F1} frames/s  ETA {(eta is { } e ? e.ToString(@"hh\:mm\:ss") : "--:--:--")}  {job.State}";
            if (interactive) Console.Write("\r" + line.PadRight(110));
            else Console.WriteLine(line);
            last = job;
        }
        if (interactive) Console.WriteLine();
        if (last is not null) Print(last);
        return last?.State == JobState.Completed ? ExitCodes.Ok : ExitCodes.JobNotCompleted;
    }

    public static void Print(JobView s)
    {
        Console.WriteLine($"job {s.JobId}: {s.State}");
        Console.WriteLine($"  frames {s.FramesDone}/{s.FramesTotal}; items queued {s.ItemsQueued}, leased {s.ItemsLeased}, done {s.ItemsDone}/{s.ItemsTotal}; retries {s.Retries}");
        Console.WriteLine($"  device time {s.DeviceSeconds:F2} s; created {s.CreatedAt:u}" + (s.CompletedAt is { } c ? $"; finished {c:u}" : ""));
        Console.WriteLine($"  coordinator silo {s.CoordinatorSilo ?? "-"}");
        if (s.Links.Manifest is not null) Console.WriteLine($"  manifest {s.Links.Manifest}");
        if (s.Links.Video is not null) Console.WriteLine($"  video    {s.Links.Video}");
        if (s.Error is not null) Console.WriteLine($"  error: {CliContext.OneLine(s.Error)}");
        foreach (var w in s.Warnings) Console.WriteLine($"  warning: {CliContext.OneLine(w)}");
    }
}
