using System.Text.Json;
using static Cluster.Tests.Scmctl.ScmctlProcess;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// scmctl against a real silo over HTTP, holding nothing but an API key: no Orleans gateway, no blob credentials.
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class ScmctlJobTests(HttpApiSilo api)
{
    Uri Url => api.Silo.HttpBase;

    [Fact]
    public async Task Submit_watch_status_list_and_a_verified_resumable_fetch_with_only_an_api_key()
    {
        var jobId = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var submit = await RunAsync(Url, api.KeyA, "submit", "--model", "tiny", "--kind", "Video", "--classes", "2,5", "--frames", "8",
            "--seed", "3", "--size", "32", "--mp4", "--job-id", jobId, "--watch");
        Assert.True(submit.ExitCode == 0, submit.ToString());
        Assert.Contains($"submitted {jobId}: 8 frames", submit.Stdout);
        Assert.Contains($"job {jobId}: Completed", submit.Stdout);
        AssertNoStackTrace(submit);

        var status = await RunAsync(Url, api.KeyA, "status", jobId);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("coordinator silo http-on", status.Stdout); // the coordinator's silo, by name
        Assert.Contains("frames 8/8", status.Stdout);

        var list = await RunAsync(Url, api.KeyA, "list");
        Assert.Contains(jobId, list.Stdout);
        Assert.DoesNotContain(jobId, (await RunAsync(Url, api.KeyB, "list")).Stdout); // tenants see only their own

        var target = Path.Combine(Path.GetTempPath(), "scmctl-fetch-" + Guid.NewGuid().ToString("N"));
        try
        {
            var fetch = await RunAsync(Url, api.KeyA, "fetch", jobId, "-o", target);
            Assert.True(fetch.ExitCode == 0, fetch.ToString());
            Assert.Contains("9 files downloaded", fetch.Stdout); // 8 frames + the MP4; the manifest comes with them
            var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(target, "manifest.json"))).RootElement;
            foreach (var frame in manifest.GetProperty("frames").EnumerateArray())
            {
                var file = Path.Combine(target, "frames", $"{frame.GetProperty("index").GetInt32():D6}.png");
                Assert.Equal(frame.GetProperty("sha256").GetString(), HttpApiTesting.Sha256(File.ReadAllBytes(file)));
            }
            Assert.Equal(manifest.GetProperty("video").GetProperty("sha256").GetString(),
                HttpApiTesting.Sha256(File.ReadAllBytes(Path.Combine(target, "video.mp4"))));

            // Resume: a corrupted frame and a missing one are downloaded again, the intact files are kept.
            var corrupted = Path.Combine(target, "frames", "000003.png");
            var good = File.ReadAllBytes(corrupted);
            File.WriteAllBytes(corrupted, [1, 2, 3]);
            File.Delete(Path.Combine(target, "frames", "000005.png"));
            var again = await RunAsync(Url, api.KeyA, "fetch", jobId, "-o", target);
            Assert.True(again.ExitCode == 0, again.ToString());
            Assert.Contains("2 files downloaded", again.Stdout);
            Assert.Contains("7 already present and intact", again.Stdout);
            Assert.Equal(good, File.ReadAllBytes(corrupted));
            Assert.True(File.Exists(Path.Combine(target, "frames", "000005.png")));

            // Another tenant's job does not exist for B: not found (5), one line, nothing written.
            var other = await RunAsync(Url, api.KeyB, "fetch", jobId, "-o", target + "-b");
            Assert.Equal(5, other.ExitCode);
            AssertOneLineError(other);
            Assert.False(Directory.Exists(target + "-b"));
        }
        finally
        {
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        }
    }

    [Fact]
    public async Task Cancel_is_idempotent_and_status_exits_3_for_a_cancelled_job()
    {
        var jobId = "cli-cancel-" + Guid.NewGuid().ToString("N")[..8];
        var submit = await RunAsync(Url, api.KeyB, "submit", "--model", "tiny", "--kind", "ImageSet", "--classes", "1,2", "--frames", "1000",
            "--size", "8", "--job-id", jobId);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        var cancel = await RunAsync(Url, api.KeyB, "cancel", jobId);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains($"cancelled {jobId}", cancel.Stdout);
        Assert.Equal(0, (await RunAsync(Url, api.KeyB, "cancel", jobId)).ExitCode);
        var status = await RunAsync(Url, api.KeyB, "status", jobId);
        Assert.Equal(3, status.ExitCode);
        Assert.Contains("Cancelled", status.Stdout);
        // watch of a finished job ends at once with its terminal state.
        var watch = await RunAsync(Url, api.KeyB, "watch", jobId);
        Assert.Equal(3, watch.ExitCode);
        Assert.Contains($"job {jobId}: Cancelled", watch.Stdout);
    }

    [Fact]
    public async Task Refusals_are_one_line_each_with_their_exit_code()
    {
        var taken = "cli-taken-" + Guid.NewGuid().ToString("N")[..8];
        string[] small = ["submit", "--model", "tiny", "--kind", "ImageSet", "--frames", "4", "--size", "8"];
        Assert.Equal(0, (await RunAsync(Url, api.KeyA, [.. small, "--job-id", taken])).ExitCode);
        // The same id and spec again is a retry (after exit 7 nobody knows whether the first run created the job): that job.
        var again = await RunAsync(Url, api.KeyA, [.. small, "--job-id", taken]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains($"submitted {taken}", again.Stdout);
        var conflict = await RunAsync(Url, api.KeyA, [.. small, "--seed", "5", "--job-id", taken]);
        Assert.Equal(2, conflict.ExitCode);
        Assert.Contains("already exists", conflict.Stderr);

        var invalid = await RunAsync(Url, api.KeyA, "submit", "--model", "tiny", "--frames", "0");
        Assert.Equal(2, invalid.ExitCode);
        Assert.Contains("frames: must be in", invalid.Stderr);
        AssertNoStackTrace(invalid);

        var quota = await RunAsync(Url, api.KeySmallQuota, "submit", "--model", "tiny", "--kind", "ImageSet", "--frames", "40", "--size", "8");
        Assert.Equal(6, quota.ExitCode);
        Assert.Contains("maxQueuedFrames", quota.Stderr);

        var badKey = await RunAsync(Url, "scm_0123456789abcdef_nope", "list");
        Assert.Equal(4, badKey.ExitCode);
        Assert.StartsWith("error: auth: ", AssertOneLineError(badKey));
        var noKey = await RunAsync(Url, null, "list");
        Assert.Equal(4, noKey.ExitCode);
        Assert.Contains("MissingKey", noKey.Stderr);

        // A 10,000-character id with a newline is neither sent nor echoed raw.
        var longId = await RunAsync(Url, api.KeyA, "status", new string('x', 5000) + "\nforged line" + new string('y', 5000));
        Assert.Equal(1, longId.ExitCode);
        var line = AssertOneLineError(longId);
        Assert.True(line.Length < 300, line);
        Assert.Equal(1, (await RunAsync(Url, api.KeyA, "submit", "--kind", "1")).ExitCode); // not Video
    }
}
