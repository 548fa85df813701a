using System.Text.Json;
using System.Text.Json.Serialization;
using BlobStorage;
using Grains.Interfaces;

namespace Grains.Jobs;

public static class ManifestWriter
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public static JobManifest Build(string jobId, JobRecord job, ManifestVideo? video, DateTime completedAt)
    {
        var spec = job.Spec!;
        var frames = Enumerable.Range(0, job.Frames.Length).Select(i =>
        {
            var record = job.Frames[i] ?? throw new InvalidOperationException($"frame {i} of job {jobId} has no record");
            var plan = FramePlanner.Frame(spec, i, job.NumClasses);
            return new ManifestFrame(i, record.Blob, record.Sha256, record.Bytes, spec.Seed, plan.Label,
                $"{plan.From.Seed}:{plan.From.Frame}", $"{plan.To.Seed}:{plan.To.Frame}", plan.Blend, record.DeviceKind, record.ComputeChunk,
                record.Precision);
        }).ToArray();
        return new JobManifest
        {
            JobId = jobId, Tenant = job.Tenant, Spec = spec, ModelId = spec.ModelId, Frames = frames, Video = video,
            Warnings = job.Warnings.ToArray(), CreatedAt = job.CreatedAt, StartedAt = job.StartedAt, CompletedAt = completedAt,
            WallSeconds = ((job.StartedAt is { } s ? completedAt - s : TimeSpan.Zero)).TotalSeconds,
            DeviceSeconds = job.DeviceSeconds, Retries = job.Retries, DeviceKinds = job.DeviceKinds.ToArray(),
        };
    }

    /// <summary>
    /// Assembles the MP4 (when asked and ffmpeg is available; otherwise records a warning on the job), then writes
    /// the manifest last: its presence means every blob it lists is stored.
    /// </summary>
    public static async Task<(string ManifestBlob, ManifestVideo? Video, DateTime CompletedAt)> WriteOutputsAsync(
        IBlobStore blobs, string jobId, JobRecord job, CancellationToken cancellationToken)
    {
        var spec = job.Spec!;
        ManifestVideo? video = null;
        if (spec.Mp4)
        {
            if (VideoAssembler.FfmpegAvailable())
                video = await VideoAssembler.AssembleAsync(blobs, job.BlobPrefix, spec.Frames, spec.Fps, cancellationToken);
            else if (!job.Warnings.Contains(VideoAssembler.MissingFfmpegHint))
                job.Warnings.Add(VideoAssembler.MissingFfmpegHint);
        }
        var completedAt = DateTime.UtcNow;
        var manifestBlob = job.BlobPrefix + "manifest.json";
        var manifest = Build(jobId, job, video, completedAt);
        await blobs.PutAsync(manifestBlob, JsonSerializer.SerializeToUtf8Bytes(manifest, JsonOptions), "application/json", cancellationToken);
        return (manifestBlob, video, completedAt);
    }
}
