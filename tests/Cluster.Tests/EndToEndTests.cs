using System.Security.Cryptography;
using System.Text.Json;
using Grains.Interfaces;

namespace Cluster.Tests;

public class EndToEndTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static JobSpec Video(int frames = 24) => new()
    {
        Kind = JobKind.Video, ModelId = "tiny", Classes = [3, 7, 1], Frames = frames, Fps = 8, Seed = 42, Steps = 2, OutputSize = 32, Mp4 = true,
    };

    [Fact]
    public async Task Video_job_on_two_silos_stores_every_frame_in_Azurite_with_a_manifest_of_checksums_and_an_mp4()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var harness = await ClusterHarness.StartAsync(silos: 2, blob: "Azure");
        output.WriteLine($"cluster up {clock.Elapsed}");
        var status = await RunAsync(harness, "e2e-video", Video());
        output.WriteLine($"job done {clock.Elapsed}: {status}");
        await AssertCompleteVideoAsync(harness, status);
    }

    [Fact]
    public async Task Video_job_with_Redis_grain_storage_and_reminders_completes()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 2, storage: "Redis");
        var status = await RunAsync(harness, "e2e-redis", Video());
        await AssertCompleteVideoAsync(harness, status);
        var index = await harness.Client.GetGrain<IJobIndexGrain>("default").List();
        Assert.Contains("e2e-redis", index);
    }

    static async Task<JobStatus> RunAsync(ClusterHarness harness, string jobId, JobSpec spec)
    {
        var result = await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", jobId)).Submit(spec, "default");
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        return await JobWaiter.UntilTerminalAsync(harness.Client, jobId, TimeSpan.FromSeconds(90));
    }

    static async Task AssertCompleteVideoAsync(ClusterHarness harness, JobStatus status)
    {
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(24, status.FramesDone);

        var manifestBytes = await harness.Blobs.GetAsync(status.ManifestBlob!);
        Assert.NotNull(manifestBytes);
        using var manifest = JsonDocument.Parse(manifestBytes);
        var frames = manifest.RootElement.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(24, frames.Count);
        foreach (var frame in frames)
        {
            var png = await harness.Blobs.GetAsync(frame.GetProperty("blob").GetString()!);
            Assert.NotNull(png);
            Assert.Equal(frame.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(png)));
        }
        var video = await harness.Blobs.GetAsync(status.VideoBlob!);
        Assert.NotNull(video);
        Assert.Equal(24, await Ffprobe.CountFramesAsync(video));
    }
}
