using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grains.Hosting;
using Grains.Interfaces;
using Grains.Options;
using Grains.Workers;
using Microsoft.Extensions.Configuration;

namespace Cluster.Tests;

/// <summary>Simulated devices (Devices:Simulated, bench scale): off by default, validated, and visible in every output.</summary>
public class SimulatedDeviceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static IReadOnlyList<string> Problems(params (string Key, string Value)[] settings) => GenerationClusterHosting.ConfigurationProblems(
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    [Fact]
    public void Simulation_is_off_by_default_and_the_silo_serves_its_real_devices()
    {
        var options = new DeviceOptions { Devices = "cpu" };
        Assert.Empty(options.Problems());
        Assert.Equal(0, options.Simulated.Count);
        var inventory = new DeviceInventory(Microsoft.Extensions.Options.Options.Create(options));
        Assert.False(inventory.Simulated);
        Assert.Equal(["cpu"], inventory.Devices);
    }

    [Fact]
    public void Simulated_devices_replace_the_real_ones_and_are_named_sim()
    {
        var options = new DeviceOptions { Devices = "cuda:0", Simulated = { Count = 3 } };
        var inventory = new DeviceInventory(Microsoft.Extensions.Options.Options.Create(options));
        Assert.True(inventory.Simulated);
        Assert.Equal(["sim:0", "sim:1", "sim:2"], inventory.Devices);
    }

    [Theory]
    [InlineData("Devices:Simulated:Count", "-1", "Devices:Simulated:Count must be in [0, 1024]")]
    [InlineData("Devices:Simulated:Count", "5000", "Devices:Simulated:Count must be in [0, 1024]")]
    [InlineData("Devices:Simulated:BatchDelay", "-00:00:01", "Devices:Simulated:BatchDelay must be in")]
    [InlineData("Devices:Simulated:BatchDelay", "01:00:00", "Devices:Simulated:BatchDelay must be in")]
    [InlineData("Devices:Simulated:PerFrameDelay", "-00:00:00.001", "Devices:Simulated:PerFrameDelay must be in")]
    [InlineData("Devices:Simulated:BatchDelay", "soon", "Devices:Simulated:BatchDelay")]
    public void Nonsense_values_are_rejected_naming_the_key(string key, string value, string expected)
    {
        var problems = Problems((key, value));
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Devices_that_cost_nothing_are_rejected()
    {
        var problems = Problems(("Devices:Simulated:Count", "4"), ("Devices:Simulated:BatchDelay", "00:00:00"));
        Assert.Contains(problems, p => p.Contains("Devices:Simulated:BatchDelay or Devices:Simulated:PerFrameDelay must be above 0", StringComparison.Ordinal));
        Assert.Empty(Problems(("Devices:Simulated:Count", "4"), ("Devices:Simulated:BatchDelay", "00:00:00"), ("Devices:Simulated:PerFrameDelay", "00:00:00.001")));
    }

    [Fact]
    public async Task A_job_on_simulated_devices_stores_every_frame_once_and_says_it_is_simulated()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 2, settings: new Dictionary<string, string?>
        {
            ["Devices:Simulated:Count"] = "3", ["Devices:Simulated:BatchDelay"] = "00:00:00.050",
        });
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 37, Seed = 5, Steps = 2, OutputSize = 24 };
        var result = await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "sim-job")).Submit(spec, "default");
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "sim-job", TimeSpan.FromSeconds(60), output.WriteLine);

        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal([DeviceKinds.Simulated], status.DeviceKinds);
        Assert.Contains(status.Warnings, w => w.StartsWith("SIMULATED", StringComparison.Ordinal));
        var manifestBytes = await harness.Blobs.GetAsync(status.ManifestBlob!);
        using var manifest = JsonDocument.Parse(manifestBytes!);
        Assert.Equal([DeviceKinds.Simulated], manifest.RootElement.GetProperty("deviceKinds").EnumerateArray().Select(k => k.GetString()));
        var frames = manifest.RootElement.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 37), frames.Select(f => f.GetProperty("index").GetInt32()));
        Assert.Equal(37, frames.Select(f => f.GetProperty("blob").GetString()).Distinct().Count());
        foreach (var frame in frames)
        {
            var png = await harness.Blobs.GetAsync(frame.GetProperty("blob").GetString()!);
            Assert.NotNull(png);
            Assert.Equal(frame.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(png)));
            Assert.Contains("SIMULATED device placeholder", Encoding.Latin1.GetString(png), StringComparison.Ordinal);
        }
        var workers = (await harness.Client.GetGrain<ISchedulerGrain>(0).Snapshot()).Workers;
        Assert.All(workers, w => Assert.StartsWith("sim:", w.Device, StringComparison.Ordinal));
        Assert.Equal(6, workers.Length);
    }
}
