using System.Diagnostics;
using System.Globalization;
using ClusterClient;
using Grains.Interfaces;

namespace ScmTools;

/// <summary>
/// What is left of the cluster commands in this tool: the progress display of `demo`, which watches its job through
/// the in-process cluster. Tenants and admins use `scmctl` (Client/Scmctl), which talks to the silos' HTTP API only.
/// </summary>
public static class ClusterCommands
{
    public static async Task<int> WatchJob(GenerationClient client, string jobId, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int firstFrames = -1;
        JobStatus? last = null;
        bool interactive = !Console.IsOutputRedirected;
        await foreach (var status in client.WatchAsync(jobId, cancellationToken: ct))
        {
            if (firstFrames < 0) firstFrames = status.FramesDone;
            double rate = (status.FramesDone - firstFrames) / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
            var eta = rate > 0 ? TimeSpan.FromSeconds((status.FramesTotal - status.FramesDone) / rate) : (TimeSpan?)null;
            int width = 30, filled = status.FramesTotal == 0 ? 0 : width * status.FramesDone / status.FramesTotal;
            var line = $"{jobId} [{new string('#', filled)}{new string('.', width - filled)}] {status.FramesDone}/{status.FramesTotal} frames " +
                       $"{rate,6:F1} frames/s  ETA {(eta is { } e ? e.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--")}  {status.State}";
            if (interactive) Console.Write("\r" + line.PadRight(110));
            else Console.WriteLine(line);
            last = status;
        }
        if (interactive) Console.WriteLine();
        if (last is not null) Print(last);
        return last?.State == JobState.Completed ? 0 : 3;
    }

    static void Print(JobStatus s)
    {
        Console.WriteLine($"job {s.JobId}: {s.State}");
        Console.WriteLine($"  frames {s.FramesDone}/{s.FramesTotal}; items queued {s.ItemsQueued}, leased {s.ItemsLeased}, done {s.ItemsDone}/{s.ItemsTotal}; retries {s.Retries}");
        Console.WriteLine($"  device time {s.DeviceSeconds:F2} s; created {s.CreatedAt:u}" + (s.CompletedAt is { } c ? $"; finished {c:u}" : ""));
        if (s.ManifestBlob is not null) Console.WriteLine($"  manifest {s.ManifestBlob}");
        if (s.VideoBlob is not null) Console.WriteLine($"  video    {s.VideoBlob}");
        if (s.Error is not null) Console.WriteLine($"  error: {s.Error}");
        foreach (var w in s.Warnings) Console.WriteLine($"  warning: {w}");
    }
}
