using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using BlobStorage;
using Grains.Interfaces;

namespace Grains.Jobs;

/// <summary>Builds an H.264 MP4 from a job's PNG frames with ffmpeg, and stores it beside them.</summary>
public static class VideoAssembler
{
    public const string MissingFfmpegHint = "ffmpeg not found on PATH: install it (Debian/Ubuntu: apt-get install ffmpeg) to get the MP4.";

    public static bool FfmpegAvailable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => File.Exists(Path.Combine(dir, "ffmpeg")));

    /// <summary>Returns the video blob's name, SHA-256 and size.</summary>
    public static async Task<ManifestVideo> AssembleAsync(IBlobStore blobs, string blobPrefix, int frames, int fps, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("scm-mp4-");
        try
        {
            for (int i = 0; i < frames; i++)
            {
                var blob = WorkItem.FrameBlob(blobPrefix, i);
                var bytes = await blobs.GetAsync(blob, cancellationToken) ?? throw new InvalidOperationException($"frame blob {blob} is missing");
                await File.WriteAllBytesAsync(Path.Combine(work.FullName, $"{i:D6}.png"), bytes, cancellationToken);
            }
            var output = Path.Combine(work.FullName, "video.mp4");
            var ffmpeg = new ProcessStartInfo("ffmpeg")
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
                ArgumentList =
                {
                    "-y", "-loglevel", "error", "-framerate", fps.ToString(CultureInfo.InvariantCulture), "-i", Path.Combine(work.FullName, "%06d.png"),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", output,
                },
            };
            using var process = Process.Start(ffmpeg) ?? throw new InvalidOperationException("could not start ffmpeg");
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0) throw new InvalidOperationException($"ffmpeg exited with {process.ExitCode}: {await stderr}");
            var video = await File.ReadAllBytesAsync(output, cancellationToken);
            var name = blobPrefix + "video.mp4";
            await blobs.PutAsync(name, video, "video/mp4", cancellationToken);
            return new ManifestVideo(name, Convert.ToHexStringLower(SHA256.HashData(video)), video.Length, fps);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
