using System.Text.Json.Nodes;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// A model card's t_mid (<c>t_mid</c>, chosen with the model on the validation split) is the 2-step time of every job
/// for that model that names no times: its frames are those of the same job with <c>IntermediateTimes = [t_mid]</c>.
/// </summary>
public class ModelTMidTests
{
    [Fact]
    public async Task A_job_without_times_samples_at_its_models_t_mid()
    {
        var directory = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "tmid-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var tinyDirectory = Path.GetDirectoryName(TestModels.TinyCard)!;
        var card = JsonNode.Parse(await File.ReadAllTextAsync(TestModels.TinyCard))!.AsObject();
        card["t_mid"] = 0.6;
        await File.WriteAllTextAsync(Path.Combine(directory, "model.json"), card.ToJsonString());
        File.Copy(Path.Combine(tinyDirectory, "model.safetensors"), Path.Combine(directory, "model.safetensors"));

        await using var harness = await ClusterHarness.StartAsync(silos: 1,
            settings: new Dictionary<string, string?> { ["Models:Registry:tiny-tmid"] = Path.Combine(directory, "model.json") });
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [3, 7], Frames = 4, Seed = 5, Steps = 2, OutputSize = 16 };
        var atCardTMid = await FrameHashesAsync(harness, "card-t-mid", spec with { ModelId = "tiny-tmid" });
        var givenTimes = await FrameHashesAsync(harness, "given-times", spec with { IntermediateTimes = [0.6] });
        var paperTMid = await FrameHashesAsync(harness, "paper-t-mid", spec);

        Assert.Equal(givenTimes, atCardTMid);
        Assert.NotEqual(paperTMid, atCardTMid);
    }

    static async Task<List<string>> FrameHashesAsync(ClusterHarness harness, string jobId, JobSpec spec)
    {
        var result = await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", jobId)).Submit(spec, "default");
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, jobId, TimeSpan.FromSeconds(90));
        Assert.Equal(JobState.Completed, status.State);
        return (await ManifestReader.ReadAsync(harness.Blobs, status.ManifestBlob!)).Select(f => f.Sha256).ToList();
    }
}
