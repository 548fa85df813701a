using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// Broken checkpoints on a live silo: each job of a broken model fails (or is refused at submit) with the checkpoint's
/// own error, and the same silo keeps serving the good model. Load-level details (every message) are in Scm.Tests'
/// CheckpointTests; this is about the cluster surviving them.
/// </summary>
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
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "broken-job")).Submit(spec, "default")).Accepted);
        Assert.True((await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "good-job")).Submit(spec with { ModelId = "tiny" }, "default")).Accepted);

        var broken = await JobWaiter.UntilTerminalAsync(harness.Client, "broken-job", TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Failed, broken.State);
        Assert.Contains("truncated", broken.Error);
        var good = await JobWaiter.UntilTerminalAsync(harness.Client, "good-job", TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Completed, good.State);
    }

    /// <summary>A copy of the tiny checkpoint with its card and/or weights edited; returns the card path.</summary>
    static string BrokenCopy(string name, Func<byte[], byte[]>? weights = null, Action<JsonObject>? card = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "scm-cluster-tests", $"broken-{name}-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var tinyDirectory = Path.GetDirectoryName(TestModels.TinyCard)!;
        var json = JsonNode.Parse(File.ReadAllText(TestModels.TinyCard))!.AsObject();
        card?.Invoke(json);
        File.WriteAllText(Path.Combine(directory, "model.json"), json.ToJsonString());
        var bytes = File.ReadAllBytes(Path.Combine(tinyDirectory, "model.safetensors"));
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), weights?.Invoke(bytes) ?? bytes);
        return Path.Combine(directory, "model.json");
    }

    static int DataStart(byte[] safetensors) => 8 + (int)BitConverter.ToInt64(safetensors, 0);

    /// <summary>(model id, card path, what the job's error must contain, refused at submit rather than failed at load).</summary>
    static IEnumerable<(string Model, string Card, string Expected, bool AtSubmit)> BrokenModels()
    {
        var random = new Random(MalformedInputs.Seed);
        yield return ("header-random-bytes", BrokenCopy("header", weights: b =>
        {
            var copy = (byte[])b.Clone();
            for (int i = 8; i < 8 + 64; i++) copy[i] = (byte)random.Next(256); // inside the JSON header
            return copy;
        }), "corrupt", false);
        yield return ("header-length-garbage", BrokenCopy("length", weights: b =>
        {
            var copy = (byte[])b.Clone();
            BitConverter.GetBytes(long.MaxValue - 3).CopyTo(copy, 0);
            return copy;
        }), "corrupt or truncated safetensors file", false);
        yield return ("tensor-region-nan", BrokenCopy("nan", weights: b =>
        {
            // Seeded random bytes over the start of the data section, with a NaN pattern among them (random bytes
            // that happen to be finite floats cannot be told from weights: safetensors has no checksum).
            var copy = (byte[])b.Clone();
            int start = DataStart(copy);
            for (int i = start; i < start + 256; i++) copy[i] = (byte)random.Next(256);
            new byte[] { 0xFF, 0xFF, 0xC0, 0x7F }.CopyTo(copy, start + 64);
            return copy;
        }), "corrupt tensor data", false);
        yield return ("truncated-in-header", BrokenCopy("cut-header", weights: b => b[..40]), "corrupt or truncated", false);
        yield return ("empty-weights", BrokenCopy("empty", weights: _ => []), "no header", false);
        yield return ("shape-mismatch", BrokenCopy("shape", card: c => c["network"]!["model_channels"] = 16), "does not match", false);
        yield return ("classes-mismatch", BrokenCopy("classes", card: c =>
        {
            c["network"]!["num_classes"] = 12;
            c["class_names"] = new JsonArray(Enumerable.Range(0, 12).Select(i => (JsonNode)i.ToString(CultureInfo.InvariantCulture)).ToArray());
        }), "does not match", false);
        yield return ("dtype-mismatch", BrokenCopy("dtype", weights: b =>
        {
            int length = (int)BitConverter.ToInt64(b, 0);
            var header = Encoding.UTF8.GetString(b, 8, length);
            int at = header.IndexOf("\"F32\"", StringComparison.Ordinal);
            var edited = Encoding.UTF8.GetBytes(header[..at] + "\"I32\"" + header[(at + 5)..]);
            return b[..8].Concat(edited).Concat(b[(8 + length)..]).ToArray();
        }), "has dtype I32, expected F32", false);
        yield return ("renamed-tensor", BrokenCopy("name", weights: b =>
        {
            int length = (int)BitConverter.ToInt64(b, 0);
            var header = Encoding.UTF8.GetString(b, 8, length);
            var edited = Encoding.UTF8.GetBytes(header.Replace("\"time_embedding.0.weight\"", "\"time_embedding.0.weigxt\""));
            return b[..8].Concat(edited).Concat(b[(8 + length)..]).ToArray();
        }), "missing tensors: time_embedding.0.weight", false);
        yield return ("card-not-json", WriteCard("card-json", "{ \"name\": \"x\", "), "not a valid model card", true);
        yield return ("card-wrong-kind", BrokenCopy("kind", card: c => c["kind"] = "diffusion"), "'diffusion' model", false);
        yield return ("card-weights-traversal", BrokenCopy("traversal", card: c => c["weights"] = "../../etc/passwd"), "weights must be a file name beside the card", true);
        yield return ("card-t-mid-out-of-range", BrokenCopy("tmid", card: c => c["t_mid"] = 1.6), "t_mid must be in (0, 1.5645)", true);
        yield return ("card-missing", Path.Combine(Path.GetTempPath(), "scm-cluster-tests", "no-such-dir", "model.json"), "Model card not found", true);
    }

    static string WriteCard(string name, string text)
    {
        var card = BrokenCopy(name);
        File.WriteAllText(card, text);
        return card;
    }

    [Fact]
    public async Task Corrupt_truncated_and_mismatched_checkpoints_fail_their_jobs_with_the_checkpoint_error_and_the_silo_keeps_serving()
    {
        var broken = BrokenModels().ToList();
        await using var harness = await ClusterHarness.StartAsync(silos: 1,
            settings: broken.ToDictionary(b => $"Models:Registry:{b.Model}", b => (string?)b.Card));
        var key = (await harness.AdminApi.CreateTenantAsync("models", new QuotaPatch { MaxRunningJobs = 100 })).ApiKey;
        var client = harness.Api(key);
        var spec = MalformedInputs.Valid;

        var submitted = new List<(string Model, string JobId, string Expected)>();
        foreach (var (model, _, expected, atSubmit) in broken)
        {
            var (jobId, result) = await client.SubmitAsync(spec with { ModelId = model }, $"bad-{model}");
            if (atSubmit)
            {
                Assert.False(result.Accepted, model);
                Assert.Contains(result.Errors, e => e.StartsWith($"modelId: model '{model}' cannot be used", StringComparison.Ordinal) && e.Contains(expected, StringComparison.Ordinal));
            }
            else
            {
                Assert.True(result.Accepted, $"{model}: {string.Join("; ", result.Errors)}");
                submitted.Add((model, jobId, expected));
            }
        }
        foreach (var (model, jobId, expected) in submitted)
        {
            var status = await JobWaiter.UntilTerminalAsync(harness.Client, jobId, TimeSpan.FromSeconds(120), tenant: "models");
            Assert.True(status.State == JobState.Failed, $"{model}: {status.State}");
            Assert.True(status.Error?.Contains(expected, StringComparison.Ordinal) == true, $"{model}: '{status.Error}' lacks '{expected}'");
        }

        // The same silo still serves the good model, after every broken one has failed.
        var (goodId, good) = await client.SubmitAsync(spec, "good-after-broken");
        Assert.True(good.Accepted, string.Join("; ", good.Errors));
        Assert.Equal(JobState.Completed, (await JobWaiter.UntilTerminalAsync(harness.Client, goodId, TimeSpan.FromSeconds(120), tenant: "models")).State);
        // Failed jobs released their reservations. A job's release follows its terminal state (the coordinator stores the
        // state, then tells the tenant grain; the keep-alive reminder retries that call), so a status can be ahead of usage.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int running;
        while ((running = (await client.UsageAsync()).Usage.RunningJobs) != 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(0, running);
    }
}
