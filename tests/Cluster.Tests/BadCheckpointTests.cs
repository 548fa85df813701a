using Grains.Interfaces;

namespace Cluster.Tests;

public class BadCheckpointTests
{
    [Fact]
    public async Task A_truncated_checkpoint_fails_only_its_jobs_with_the_checkpoint_error_and_the_silo_keeps_serving()
    {
        var directory = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "broken-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var tinyDirectory = Path.GetDirectoryName(TestModels.TinyCard)!;
        File.Copy(TestModels.TinyCard, Path.Combine(directory, "model.json"));
        var weights = await File.ReadAllBytesAsync(Path.Combine(tinyDirectory, "model.safetensors"));
        await File.WriteAllBytesAsync(Path.Combine(directory, "model.safetensors"), weights[..(weights.Length / 2)]);

        await using var harness = await ClusterHarness.StartAsync(silos: 1,
            settings: new Dictionary<string, string?> { ["Models:Registry:broken"] = Path.Combine(directory, "model.json") });
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "broken", Classes = [1], Frames = 4, OutputSize = 16 };
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>("broken-job").Submit(spec, "default")).Accepted);
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>("good-job").Submit(spec with { ModelId = "tiny" }, "default")).Accepted);

        var broken = await JobWaiter.UntilTerminalAsync(harness.Client, "broken-job", TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Failed, broken.State);
        Assert.Contains("truncated", broken.Error);
        var good = await JobWaiter.UntilTerminalAsync(harness.Client, "good-job", TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Completed, good.State);
    }
}
