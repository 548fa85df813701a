using System.Buffers.Binary;
using System.Net;
using HttpApi;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests.WebConsole;

/// <summary>
/// What the web console adds to the HTTP API, over real HTTP against the API silo: the static files (no key, strict
/// CSP, revalidated by ETag) and the frame thumbnail route (the same tenant checks as the frame download).
/// </summary>
[Collection(HttpApiCollection.Name)]
public class ConsoleEndpointTests(HttpApiSilo silo)
{
    [Fact]
    public async Task The_console_is_served_without_a_key_under_a_strict_content_security_policy()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = silo.Silo.HttpBase };
        var root = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/console/", root.Headers.Location?.OriginalString);

        Assert.Equal("/console/", (await http.GetAsync("/console")).Headers.Location?.OriginalString);
        var page = await http.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ConsoleEndpoints.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("script-src 'self';", ConsoleEndpoints.ContentSecurityPolicy);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"js/app.js\"></script>", html);

        var script = await http.GetAsync("/console/js/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        var again = new HttpRequestMessage(HttpMethod.Get, "/console/js/app.js");
        again.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await http.SendAsync(again)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/console/js/missing.js")).StatusCode);

        // A silo without the API has no console either: it would have nothing to talk to.
        using var off = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = silo.Disabled.HttpBase };
        Assert.Equal(HttpStatusCode.NotFound, (await off.GetAsync("/console/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await off.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task The_console_builds_pages_without_markup_from_data_and_keeps_the_key_out_of_storage_that_outlives_the_tab()
    {
        using var http = silo.Http(null);
        foreach (var file in new[] { "app.js", "api.js", "dom.js", "forms.js", "jobs.js", "job.js", "frames.js", "submit.js", "usage.js", "admin.js", "admin-tenants.js" })
        {
            var source = await http.GetStringAsync($"/console/js/{file}");
            foreach (var forbidden in new[] { ".innerHTML", ".outerHTML", "insertAdjacentHTML(", "document.write", "eval(", "new Function(", "localStorage.", "document.cookie" })
                Assert.False(source.Contains(forbidden, StringComparison.Ordinal), $"{file} uses {forbidden}");
        }
    }

    [Fact]
    public async Task A_thumbnail_is_the_frame_scaled_down_with_an_etag_that_answers_304_and_only_for_the_jobs_tenant()
    {
        using var http = silo.Http(silo.KeyA);
        var submit = await http.PostAsync("v1/jobs", Json("""{"kind":"ImageSet","modelId":"tiny","classes":[4],"frames":2,"outputSize":64}"""));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var id = (await JsonOf(submit)).GetProperty("jobId").GetString()!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using (var stream = await http.GetAsync($"v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token))
            Assert.Equal("Completed", (await ReadEventsAsync(stream, deadline.Token))[^1].Data.GetProperty("state").GetString());

        var thumbnail = await http.GetAsync($"v1/jobs/{id}/frames/1/thumbnail?size=16");
        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        Assert.Equal("image/png", thumbnail.Content.Headers.ContentType?.MediaType);
        Assert.Equal((16, 16), PngSize(await thumbnail.Content.ReadAsByteArrayAsync()));
        Assert.Contains("private", thumbnail.Headers.CacheControl!.ToString());
        var frame = await (await http.GetAsync($"v1/jobs/{id}/frames/1")).Content.ReadAsByteArrayAsync();
        Assert.Equal($"\"{Sha256(frame)}-16\"", thumbnail.Headers.ETag!.ToString());

        var revalidate = Get($"v1/jobs/{id}/frames/1/thumbnail?size=16", silo.KeyA);
        revalidate.Headers.IfNoneMatch.Add(thumbnail.Headers.ETag!);
        var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        var otherSize = Get($"v1/jobs/{id}/frames/1/thumbnail?size=32", silo.KeyA);
        otherSize.Headers.IfNoneMatch.Add(thumbnail.Headers.ETag!);
        Assert.Equal((32, 32), PngSize(await (await http.SendAsync(otherSize)).Content.ReadAsByteArrayAsync()));

        // No size: the default (96 px), and a frame already smaller than that comes back unchanged.
        Assert.Equal(frame, await (await http.GetAsync($"v1/jobs/{id}/frames/1/thumbnail")).Content.ReadAsByteArrayAsync());

        using var otherTenant = silo.Http(silo.KeyB);
        await ProblemOf(await otherTenant.GetAsync($"v1/jobs/{id}/frames/1/thumbnail?size=16"), HttpStatusCode.NotFound);
        using var anonymous = silo.Http(null);
        var missingKey = await ProblemOf(await anonymous.GetAsync($"v1/jobs/{id}/frames/1/thumbnail?size=16"), HttpStatusCode.Unauthorized);
        Assert.Equal("MissingKey", missingKey.GetProperty("authProblem").GetString());
        // Arguments are judged only for an authenticated caller, and name their field.
        await ProblemOf(await anonymous.GetAsync($"v1/jobs/{id}/frames/1/thumbnail?size=9999"), HttpStatusCode.Unauthorized);
        foreach (var size in new[] { "9999", "15", "abc", "-1" })
            Assert.Contains("must be an integer in [16, 256]", FieldErrors(await ProblemOf(
                await http.GetAsync($"v1/jobs/{id}/frames/1/thumbnail?size={size}"), HttpStatusCode.BadRequest), "size")[0]);
        var outside = await ProblemOf(await http.GetAsync($"v1/jobs/{id}/frames/2/thumbnail"), HttpStatusCode.NotFound);
        Assert.Contains("frames 0..1", outside.GetProperty("detail").GetString());
        await ProblemOf(await http.GetAsync("v1/jobs/no-such-job/frames/0/thumbnail"), HttpStatusCode.NotFound);
    }

    /// <summary>Width and height from the PNG's IHDR chunk (bytes 16..23, big-endian).</summary>
    static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 24 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a PNG");
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
