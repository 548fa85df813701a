using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grains.Interfaces;
using HttpApi;
using Xunit.Abstractions;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests;

/// <summary>
/// The generated malformed inputs (<see cref="MalformedInputs"/>) and malformed HTTP requests, over real HTTP against
/// the HTTP API silo: every answer is a 4xx problem document (never a 5xx, never a bodiless error), naming the field
/// where there is one, with nothing client-sent echoed raw or wholesale; afterwards the fuzz tenant has no job and
/// the silo still serves (readiness, and a valid job completes).
/// </summary>
[Collection(HttpApiCollection.Name)]
public class HttpApiFuzzTests(HttpApiSilo silo, ITestOutputHelper output)
{
    const int MaxBody = 64 * 1024; // HttpApi:MaxRequestBodyBytes default

    /// <summary>Typed specs serialised as a client would; nulls as null, NaN and infinities as "NaN" strings: the API must refuse them.</summary>
    static readonly JsonSerializerOptions Writer = new(JobSpecJson.Options) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, RespectNullableAnnotations = false };

    static readonly string[] JobRoutes = ["", ":cancel", "/events", "/frames/0", "/frames/0/thumbnail", "/video", "/manifest"];

    /// <summary>Paths sent byte for byte (no client-side escaping or dot-segment removal).</summary>
    static readonly string[] RawIds =
    [
        "%ZZ", "%", "%00", "%c0%ae%c0%ae", "%ff%fe", "..%2f..%2fetc%2fpasswd", "%2e%2e", "%252e%252e%252f", "a;b=c",
        "a%0d%0aX-Injected:%201", "%e2%80%ae", "%F0%9F%98%80", "%5C..%5C..%5Cwindows", "%7B%22a%22:1%7D", "%2F", "~", "%u002e",
    ];

    readonly List<string> failures = [];
    readonly SortedDictionary<int, int> statuses = [];

    [Fact]
    public async Task Malformed_requests_get_4xx_problems_naming_the_field_leave_no_job_and_the_silo_keeps_serving()
    {
        var clock = Stopwatch.StartNew();
        using var http = silo.Http(silo.KeyFuzz);

        var json = MalformedInputs.JsonCases().ToList();
        foreach (var c in json)
        {
            bool tooLarge = c.Body.Length > MaxBody;
            await Send(http, $"json {c.Name}", Post("v1/jobs", JsonBytes(c.Body)), tooLarge ? 413 : 400,
                tooLarge ? null : c.Field ?? "line ", tooLarge ? null : c.Limit);
        }

        // A deterministic half of the typed cases, plus every one only the cluster can refuse (model, quota).
        var typed = MalformedInputs.Specs().Where((c, i) => i % 2 == 0 || c.NeedsModel || c.QuotaOnly).ToList();
        foreach (var c in typed)
        {
            var body = JsonSerializer.Serialize(c.Spec, Writer);
            bool tooLarge = Encoding.UTF8.GetByteCount(body) > MaxBody;
            // A value JSON cannot carry as such (null, NaN) is refused as a type error, before any range check.
            var limit = !tooLarge && JobSpecJson.Read(body).Errors.Count == 0 ? c.Limit : null;
            await Send(http, $"typed {c.Name}", Post("v1/jobs", Json(body)), tooLarge ? 413 : c.QuotaOnly ? 429 : 400,
                tooLarge ? null : c.Field.Replace("quota ", ""), limit);
        }

        int before = Count;
        await MediaTypesAndSizesAsync(http);
        int bodies = Count - before;
        before = Count;
        await KeysAsync();
        int keys = Count - before;
        before = Count;
        await JobIdsAsync(http);
        int ids = Count - before;
        output.WriteLine($"{json.Count} JSON cases, {typed.Count} typed cases, {bodies} media-type/size, {keys} key, {ids} job-id/route requests");

        // The silo still serves; nothing was created.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);
        Assert.Empty((await JsonOf(await http.GetAsync("v1/jobs"))).GetProperty("jobs").EnumerateArray());
        var accepted = await http.PostAsync("v1/jobs?jobId=fuzz-valid", Json(MalformedInputs.ValidJson));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await UntilCompletedAsync(http, "fuzz-valid");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/jobs/fuzz-valid/frames/3")).StatusCode);

        before = Count;
        await FrameIndexesAsync(http, "fuzz-valid", frames: 4);
        output.WriteLine($"{Count - before} frame-index requests; {Count} in all in {clock.Elapsed.TotalSeconds:F1} s: " +
            string.Join(", ", statuses.Select(s => $"{s.Value} x {s.Key}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {Count} answers were wrong:\n" + string.Join("\n", failures));
        Assert.Equal(["fuzz-valid"], (await JsonOf(await http.GetAsync("v1/jobs"))).GetProperty("jobs").EnumerateArray()
            .Select(j => j.GetProperty("jobId").GetString()));
    }

    int Count => statuses.Values.Sum();

    async Task MediaTypesAndSizesAsync(HttpClient http)
    {
        // A valid spec under a media type that is not UTF-8 application/json: refused before it is read.
        string?[] refused =
        [
            null, "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
            "application/merge-patch+json", "application/problem+json", "application/json-seq", "application/jsonx", "application/*", "*/*",
            "application/json; charset=utf-16", "application/json; charset=latin1", "!!!", "application/json, text/plain",
        ];
        foreach (var type in refused)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(MalformedInputs.ValidJson));
            if (type is not null) content.Headers.TryAddWithoutValidation("Content-Type", type);
            await Send(http, $"content type {type ?? "none"}", Post("v1/jobs", content), 415, null);
        }
        await Send(http, "empty body, no content type", Post("v1/jobs", new ByteArrayContent([])), 415, null);
        await Send(http, "no content at all", new HttpRequestMessage(HttpMethod.Post, "v1/jobs"), 415, null);
        foreach (var type in new[] { "application/json", "Application/JSON", "application/json; charset=UTF-8", "application/json;charset=\"utf-8\"" })
        {
            var empty = new ByteArrayContent([]);
            empty.Headers.TryAddWithoutValidation("Content-Type", type);
            await Send(http, $"empty body as {type}", Post("v1/jobs", empty), 400, "line ");
        }
        // The cap: exactly at it is read (and refused for its unknown property), one byte over is 413, with or without Content-Length.
        var atCap = MalformedInputs.With("padding", "\"\"");
        atCap = atCap.Insert(1, new string(' ', MaxBody - atCap.Length));
        await Send(http, "body at the cap", Post("v1/jobs", Json(atCap)), 400, "padding");
        foreach (var size in new[] { MaxBody + 1, 1 << 20, 8 << 20 })
        {
            var body = atCap.Insert(1, new string(' ', size - atCap.Length));
            await Send(http, $"{size} byte body", Post("v1/jobs", Json(body)), 413, null);
            var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
            chunked.Headers.ContentType = new("application/json");
            var request = Post("v1/jobs", chunked);
            request.Headers.TransferEncodingChunked = true;
            await Send(http, $"{size} byte body, chunked", request, 413, null);
        }
        // Wrong methods and unknown /v1 paths: routing's own answers, as problem documents.
        await Send(http, "DELETE a job", new HttpRequestMessage(HttpMethod.Delete, "v1/jobs/fuzz-x"), 405, null);
        await Send(http, "PUT jobs", new HttpRequestMessage(HttpMethod.Put, "v1/jobs") { Content = Json(MalformedInputs.ValidJson) }, 405, null);
        await Send(http, "unknown route", Get("v1/jobs/fuzz-x/frames/0/extra", null), 404, null);
        await Send(http, "unknown version", Get("v1/tenants", null), 404, null);
    }

    async Task KeysAsync()
    {
        using var anonymous = silo.Http(null);
        // Keys with control or non-ASCII characters cannot be sent in a header (the client refuses; Kestrel would too).
        var keys = MalformedInputs.BadKeys(silo.AdminKeyId).Where(k => k.Key is null || k.Key.All(c => c is >= ' ' and <= '~'))
            .Append(("basic auth", null, AuthProblem.MissingKey));
        foreach (var (name, key, problem) in keys)
        {
            foreach (var header in new[] { "Authorization", ClusterApiCaller.ApiKeyHeader })
            {
                HttpRequestMessage Keyed(HttpRequestMessage request)
                {
                    if (name == "basic auth") request.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz");
                    else if (key is not null) request.Headers.TryAddWithoutValidation(header, header == "Authorization" ? "Bearer " + key : key);
                    return request;
                }
                await SendAuth(anonymous, $"key {name} in {header}: submit", Keyed(Post("v1/jobs", Json(MalformedInputs.ValidJson))), problem);
                await SendAuth(anonymous, $"key {name} in {header}: list", Keyed(Get("v1/jobs", null)), problem);
                await SendAuth(anonymous, $"key {name} in {header}: frame", Keyed(Get("v1/jobs/fuzz-x/frames/abc", null)), problem);
            }
        }
    }

    async Task JobIdsAsync(HttpClient http)
    {
        var ids = MalformedInputs.BadJobIds().Where(j => j.JobId.Length < 1024).Append(("4 KB", new string('j', 4096)));
        foreach (var (name, id) in ids)
        {
            foreach (var route in JobRoutes.Where(r => id.Length > 0 || r != "")) // "v1/jobs/" is the list
                if (id.Contains('\0')) await KestrelRefuses(http, $"job id {name}: {route}", Route(route, JobEndpoints.JobPath(id)), 400);
                else await Send(http, $"job id {name}: {route}", Route(route, JobEndpoints.JobPath(id)), 404, null);
            if (!TenantRules.IsValidId(id))
                await Send(http, $"job id {name}: submit", Post("v1/jobs?jobId=" + Uri.EscapeDataString(id), Json(MalformedInputs.ValidJson)), 400, "jobId", "64");
        }
        foreach (var raw in RawIds)
            foreach (var route in JobRoutes)
            {
                var request = Route(route, "");
                request.RequestUri = new Uri(silo.Silo.HttpBase.GetLeftPart(UriPartial.Authority) + "/v1/jobs/" + raw + route,
                    new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
                if (raw == "%00") await KestrelRefuses(http, $"raw id {raw}{route}", request, 400);
                else await Send(http, $"raw id {raw}{route}", request, 404, null);
            }
        await Send(http, "two jobIds", Post("v1/jobs?jobId=fuzz-a&jobId=fuzz-b", Json(MalformedInputs.ValidJson)), 400, "jobId");
        // Kestrel refuses a request line over 8 KB itself: the API never sees a 10 KB id in a path.
        await KestrelRefuses(http, "10 KB job id in the path", Get("v1/jobs/" + new string('j', 10 * 1024), null), 414);
    }

    /// <summary>
    /// What Kestrel refuses before any middleware runs (an encoded NUL in the path, a request line over 8 KB): its own
    /// bodiless 4xx, which no application code can turn into a problem document.
    /// </summary>
    async Task KestrelRefuses(HttpClient http, string name, HttpRequestMessage request, int expected)
    {
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Record(name, (int)response.StatusCode, (int)response.StatusCode == expected && body.Length == 0 ? null : $"expected Kestrel's bodiless {expected}");
    }

    async Task FrameIndexesAsync(HttpClient http, string jobId, int frames)
    {
        foreach (var index in new[] { "-1", frames.ToString(CultureInfo.InvariantCulture), "2147483647", "-2147483648" })
            await Send(http, $"frame {index}", Get($"v1/jobs/{jobId}/frames/{index}", null), 404, "index");
        foreach (var index in new[] { "abc", "1e3", "0x1", "1.5", "2147483648", "99999999999999999999", "%01", "%E2%80%AE1", "NaN", new string('9', 2000) })
            await Send(http, $"frame {index[..Math.Min(index.Length, 12)]}", Get($"v1/jobs/{jobId}/frames/{index}", null), 400, "index");
        await Send(http, "frame of a missing job", Get("v1/jobs/fuzz-missing/frames/0", null), 404, null);
    }

    static HttpRequestMessage Post(string path, HttpContent content) => new(HttpMethod.Post, path) { Content = content };

    static HttpRequestMessage Route(string route, string jobPath) =>
        route == ":cancel" ? new(HttpMethod.Post, jobPath.TrimStart('/') + route) : Get(jobPath.TrimStart('/') + route, null);

    async Task SendAuth(HttpClient http, string name, HttpRequestMessage request, AuthProblem problem)
    {
        var (status, document) = await Answer(http, name, request);
        if (document is not { } body) return;
        var got = body.TryGetProperty("authProblem", out var p) ? p.GetString() : null;
        Record(name, status, status != 401 ? "expected 401" : got != problem.ToString() ? $"authProblem {got}, expected {problem}" : null);
    }

    /// <summary>Sends; the answer must be <paramref name="expected"/> and a problem whose messages name <paramref name="field"/>.</summary>
    async Task Send(HttpClient http, string name, HttpRequestMessage request, int expected, string? field, string? limit = null)
    {
        var (status, document) = await Answer(http, name, request);
        if (document is not { } problem) return;
        string? wrong = status != expected ? $"expected {expected}" : null;
        wrong ??= MalformedInputTests.Problem(Messages(problem), field ?? "", limit);
        Record(name, status, wrong is null ? null : $"{wrong}: {JobSpecValidator.Echo(problem.GetRawText())}");
    }

    /// <summary>The status and the problem document; null (and a failure) when the answer is not a 4xx problem.</summary>
    async Task<(int Status, JsonElement? Problem)> Answer(HttpClient http, string name, HttpRequestMessage request)
    {
        try
        {
            using var response = await http.SendAsync(request);
            int status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            if (status is < 400 or >= 500 || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                Record(name, status, $"not a 4xx problem: {response.Content.Headers.ContentType} {JobSpecValidator.Echo(body)}");
                return (status, null);
            }
            var problem = JsonDocument.Parse(body).RootElement.Clone();
            if (!problem.TryGetProperty("status", out var s) || s.GetInt32() != status) Record(name, status, "the problem's status differs");
            return (status, problem);
        }
        catch (HttpRequestException e)
        {
            Record(name, 0, $"no answer: {JobSpecValidator.Echo(e.Message)}");
            return (0, null);
        }
    }

    /// <summary>Every message a problem carries: the title, the errors by field, the quotas, the detail.</summary>
    static List<string> Messages(JsonElement problem)
    {
        var messages = new List<string> { problem.GetProperty("title").GetString() ?? "" };
        if (problem.TryGetProperty("errors", out var errors))
            messages.AddRange(errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(m => m.GetString()!)));
        if (problem.TryGetProperty("quotas", out var quotas))
            messages.AddRange(quotas.EnumerateArray().Select(q => q.GetProperty("detail").GetString()!));
        if (problem.TryGetProperty("detail", out var detail) && detail.GetString() is { } text) messages.Add(text);
        return messages;
    }

    void Record(string name, int status, string? failure)
    {
        statuses[status] = statuses.GetValueOrDefault(status) + 1;
        if (failure is not null) failures.Add($"{JobSpecValidator.Echo(name)} -> {status}: {failure}");
    }

    static async Task UntilCompletedAsync(HttpClient http, string jobId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var state = (await JsonOf(await http.GetAsync($"v1/jobs/{jobId}"))).GetProperty("state").GetString();
            if (state == "Completed") return;
            Assert.True(state is "Queued" or "Running" or "Finalizing" && DateTime.UtcNow < deadline, $"job {jobId} is {state}");
            await Task.Delay(200);
        }
    }
}
