using System.Net;
using System.Text.Json;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests;

/// <summary>The job lifecycle over real HTTP on loopback against a real scm-silo process.</summary>
[Collection(HttpApiCollection.Name)]
public class HttpApiJobTests(HttpApiSilo silo)
{
    static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Submit_then_events_until_completed_then_frame_video_and_manifest_match_the_manifest_hashes()
    {
        using var http = silo.Http(silo.KeyA);
        var submit = await http.PostAsync("v1/jobs", Json("""{"kind":"Video","modelId":"tiny","classes":[2,5],"frames":8,"seed":3,"outputSize":32,"mp4":true}"""));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var accepted = await JsonOf(submit);
        var id = accepted.GetProperty("jobId").GetString()!;
        Assert.Equal($"/v1/jobs/{id}", submit.Headers.Location!.OriginalString);
        Assert.Equal(8, accepted.GetProperty("framesTotal").GetInt32());
        Assert.Equal("Video", accepted.GetProperty("spec").GetProperty("kind").GetString());

        // The same key in X-Api-Key works too.
        using var viaHeader = silo.Http(silo.KeyA, "X-Api-Key");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var stream = await viaHeader.GetAsync($"v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        var events = await ReadEventsAsync(stream, deadline.Token);
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal("status", e.Event));
        var framesDone = events.Select(e => e.Data.GetProperty("framesDone").GetInt32()).ToList();
        Assert.Equal(framesDone.Order(), framesDone);
        Assert.Equal(1, events.Count(e => e.Data.GetProperty("isTerminal").GetBoolean()));
        var last = events[^1].Data;
        Assert.Equal("Completed", last.GetProperty("state").GetString());
        Assert.Equal(8, last.GetProperty("framesDone").GetInt32());
        Assert.Equal(["cpu"], last.GetProperty("deviceKinds").EnumerateArray().Select(k => k.GetString()));

        var manifestResponse = await http.GetAsync(last.GetProperty("links").GetProperty("manifest").GetString());
        Assert.Equal(HttpStatusCode.OK, manifestResponse.StatusCode);
        var manifest = await JsonOf(manifestResponse);
        Assert.Equal(id, manifest.GetProperty("jobId").GetString());

        var frame = await http.GetAsync($"v1/jobs/{id}/frames/5");
        Assert.Equal(HttpStatusCode.OK, frame.StatusCode);
        Assert.Equal("image/png", frame.Content.Headers.ContentType?.MediaType);
        var png = await frame.Content.ReadAsByteArrayAsync();
        Assert.Equal(PngSignature, png[..8]);
        var expected = manifest.GetProperty("frames")[5];
        Assert.Equal(5, expected.GetProperty("index").GetInt32());
        Assert.Equal(expected.GetProperty("sha256").GetString(), Sha256(png));
        Assert.Equal($"\"{Sha256(png)}\"", frame.Headers.ETag?.ToString());

        var video = await http.GetAsync(last.GetProperty("links").GetProperty("video").GetString());
        Assert.Equal(HttpStatusCode.OK, video.StatusCode);
        Assert.Equal("video/mp4", video.Content.Headers.ContentType?.MediaType);
        var mp4 = await video.Content.ReadAsByteArrayAsync();
        Assert.Equal(manifest.GetProperty("video").GetProperty("sha256").GetString(), Sha256(mp4));
        Assert.Equal(8, await Ffprobe.CountFramesAsync(mp4));

        var outOfRange = await ProblemOf(await http.GetAsync($"v1/jobs/{id}/frames/8"), HttpStatusCode.NotFound);
        Assert.Contains("frames 0..7", outOfRange.GetProperty("detail").GetString());
        var finished = await ProblemOf(await http.PostAsync($"v1/jobs/{id}:cancel", null), HttpStatusCode.Conflict);
        Assert.Contains("Completed", finished.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Status_list_and_cancel_of_a_running_job_and_a_taken_job_id_conflicts()
    {
        using var http = silo.Http(silo.KeyB);
        var jobId = "http-cancel-" + Guid.NewGuid().ToString("N")[..8];
        // Large enough to still be queued or running when the cancel arrives a few milliseconds later.
        const string spec = """{"kind":"ImageSet","modelId":"tiny","classes":[1,2],"frames":1000,"outputSize":8}""";
        var submit = await http.PostAsync($"v1/jobs?jobId={jobId}", Json(spec));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        Assert.Equal($"/v1/jobs/{jobId}", submit.Headers.Location!.OriginalString);

        var status = await JsonOf(await http.GetAsync($"v1/jobs/{jobId}"));
        Assert.Equal(jobId, status.GetProperty("jobId").GetString());
        Assert.Contains(status.GetProperty("state").GetString(), new[] { "Queued", "Running" });
        Assert.Null(status.GetProperty("links").GetProperty("manifest").GetString());

        var list = await JsonOf(await http.GetAsync("v1/jobs"));
        Assert.Contains(jobId, list.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));

        var taken = await ProblemOf(await http.PostAsync($"v1/jobs?jobId={jobId}", Json(spec)), HttpStatusCode.Conflict);
        Assert.Contains(jobId, taken.GetProperty("detail").GetString());

        var cancel = await http.PostAsync($"v1/jobs/{jobId}:cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("Cancelled", (await JsonOf(cancel)).GetProperty("state").GetString());
        var again = await http.PostAsync($"v1/jobs/{jobId}:cancel", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // idempotent
        Assert.Equal("Cancelled", (await JsonOf(await http.GetAsync($"v1/jobs/{jobId}"))).GetProperty("state").GetString());

        // The stream of a terminal job is one event, then the end.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stream = await http.GetAsync($"v1/jobs/{jobId}/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        var events = await ReadEventsAsync(stream, deadline.Token);
        Assert.Equal("Cancelled", Assert.Single(events).Data.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Another_tenants_job_answers_exactly_like_a_missing_one()
    {
        using var a = silo.Http(silo.KeyA);
        using var b = silo.Http(silo.KeyB);
        var jobId = "http-iso-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Accepted, (await a.PostAsync($"v1/jobs?jobId={jobId}", Json("""{"modelId":"tiny","frames":4,"outputSize":16}"""))).StatusCode);

        foreach (var suffix in new[] { "", "/events", "/frames/0", "/video", "/manifest" })
        {
            var theirs = await ProblemOf(await b.GetAsync($"v1/jobs/{jobId}{suffix}"), HttpStatusCode.NotFound);
            var missing = await ProblemOf(await b.GetAsync($"v1/jobs/no-such-{jobId}{suffix}"), HttpStatusCode.NotFound);
            Assert.Equal(missing.GetProperty("title").GetString(), theirs.GetProperty("title").GetString());
            Assert.Equal(missing.GetProperty("detail").GetString()!.Replace("no-such-", ""), theirs.GetProperty("detail").GetString());
        }
        await ProblemOf(await b.PostAsync($"v1/jobs/{jobId}:cancel", null), HttpStatusCode.NotFound);
        Assert.NotEqual("Cancelled", (await JsonOf(await a.GetAsync($"v1/jobs/{jobId}"))).GetProperty("state").GetString());
        var listOfB = await JsonOf(await b.GetAsync("v1/jobs"));
        Assert.DoesNotContain(jobId, listOfB.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));
    }

    [Fact]
    public async Task Requests_without_a_valid_key_get_401_before_anything_else()
    {
        var keyId = silo.KeyA.Split('_')[1];
        var cases = new (string? Key, string Problem)[]
        {
            (null, "MissingKey"), ("not-a-key", "MalformedKey"),
            ($"scm_{keyId}_wrong-secret", "WrongKey"), ("scm_0123456789abcdef_whatever", "UnknownKey"),
        };
        using var http = silo.Http(null);
        foreach (var (key, expected) in cases)
        {
            foreach (var request in new[]
            {
                Get("v1/jobs", key), Get("v1/jobs/anything", key), Get("v1/jobs/anything/events", key),
                // An invalid body is not even looked at without a key.
                WithKey(new HttpRequestMessage(HttpMethod.Post, "v1/jobs") { Content = Json("{\"frams\": 1") }, key),
            })
            {
                var response = await http.SendAsync(request);
                var problem = await ProblemOf(response, HttpStatusCode.Unauthorized);
                Assert.Equal(expected, problem.GetProperty("authProblem").GetString());
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            }
        }
    }
}
