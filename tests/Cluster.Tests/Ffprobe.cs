using System.Diagnostics;
using System.Globalization;

namespace Cluster.Tests;

public static class Ffprobe
{
    /// <summary>Decodes the video with the real ffprobe and returns its frame count.</summary>
    public static async Task<int> CountFramesAsync(byte[] video)
    {
        var path = Path.Combine(Path.GetTempPath(), $"scm-video-{Guid.NewGuid():N}.mp4");
        await File.WriteAllBytesAsync(path, video);
        try
        {
            var info = new ProcessStartInfo("ffprobe")
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
                ArgumentList = { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path },
            };
            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"ffprobe failed: {await process.StandardError.ReadToEndAsync()}");
            return int.Parse(output.Trim(), CultureInfo.InvariantCulture);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
