using Grains.Interfaces;

namespace Cluster.Tests;

public class BlobHostedModelTests
{
    [Fact]
    public async Task A_model_registered_as_a_blob_is_downloaded_once_and_serves_jobs()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1,
            settings: new Dictionary<string, string?> { ["Models:Registry:from-blob"] = "blob:models/tiny/model.json" });
        var folder = Path.GetDirectoryName(TestModels.TinyCard)!;
        await harness.Blobs.PutAsync("models/tiny/model.json", await File.ReadAllBytesAsync(TestModels.TinyCard), "application/json");
        await harness.Blobs.PutAsync("models/tiny/model.safetensors", await File.ReadAllBytesAsync(Path.Combine(folder, "model.safetensors")), "application/octet-stream");

        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "from-blob", Classes = [4], Frames = 6, OutputSize = 16 };
        var result = await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "blob-model")).Submit(spec, "default");
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "blob-model", TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Completed, status.State);
    }
}
