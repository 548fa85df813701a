using System.Text.Json;
using Grains.Hosting;
using Grains.Interfaces;
using Microsoft.Extensions.Configuration;

namespace Cluster.Tests;

/// <summary>
/// Devices:{Cpu,Cuda}:Precision: a worker runs the network in the configured dtype, and every frame of the manifest says
/// which (frames are reproducible per device kind, compute chunk and precision). bfloat16 runs here on the CPU with the
/// tiny test model; its speed is a GPU question (docs/BENCHMARKS.md).
/// </summary>
public class DevicePrecisionTests
{
    static IReadOnlyList<string> Problems(string key, string value) => GenerationClusterHosting.ConfigurationProblems(
        new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create(key, (string?)value)]).Build());

    [Theory]
    [InlineData("Devices:Cuda:Precision", "BFloat16")]
    [InlineData("Devices:Cuda:Precision", "bfloat16")]
    [InlineData("Devices:Cpu:Precision", "Float16")]
    [InlineData("Devices:Cpu:Precision", "Float32")]
    public void A_known_precision_is_accepted_in_any_case(string key, string value) => Assert.Empty(Problems(key, value));

    [Theory]
    [InlineData("Devices:Cuda:Precision", "Double")]
    [InlineData("Devices:Cuda:Precision", "fp8")]
    [InlineData("Devices:Cpu:Precision", "7")]
    public void An_unknown_precision_is_refused_naming_the_setting(string key, string value)
    {
        var problem = Assert.Single(Problems(key, value));
        Assert.Contains(key, problem);
    }

    [Fact]
    public async Task Frames_sampled_in_bfloat16_differ_from_float32_frames_and_the_manifest_says_which_precision_made_them()
    {
        var float32 = await FramesAsync(precision: null);
        var bfloat16 = await FramesAsync(precision: "BFloat16");
        Assert.All(float32, f => Assert.Equal(("cpu", 8, "Float32"), (f.DeviceKind, f.ComputeChunk, f.Precision)));
        Assert.All(bfloat16, f => Assert.Equal(("cpu", 8, "BFloat16"), (f.DeviceKind, f.ComputeChunk, f.Precision)));
        // Same spec, same noise: the network's dtype alone changes the bits.
        Assert.NotEqual(float32.Select(f => f.Sha256), bfloat16.Select(f => f.Sha256));
    }

    sealed record Frame(string Sha256, string? DeviceKind, int ComputeChunk, string? Precision);

    static async Task<List<Frame>> FramesAsync(string? precision)
    {
        var settings = new Dictionary<string, string?>();
        if (precision is not null) settings["Devices:Cpu:Precision"] = precision;
        await using var harness = await ClusterHarness.StartAsync(silos: 1, settings: settings);
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [3, 7], Frames = 4, Seed = 5, Steps = 2, OutputSize = 32 };
        const string jobId = "precision";
        var result = await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", jobId)).Submit(spec, "default");
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, jobId, TimeSpan.FromSeconds(90));
        Assert.Equal(JobState.Completed, status.State);
        var bytes = await harness.Blobs.GetAsync(status.ManifestBlob!) ?? throw new InvalidOperationException("no manifest");
        using var manifest = JsonDocument.Parse(bytes);
        return manifest.RootElement.GetProperty("frames").EnumerateArray().Select(f => new Frame(f.GetProperty("sha256").GetString()!,
            f.GetProperty("deviceKind").GetString(), f.GetProperty("computeChunk").GetInt32(), f.GetProperty("precision").GetString())).ToList();
    }
}
