using System.Net;
using System.Text;
using System.Text.Json;
using static Cluster.Tests.HttpApiTesting;

namespace Cluster.Tests;

/// <summary>Rejections (validation, strict JSON, size, quota), the OpenAPI document and the opt-in switch, over real HTTP.</summary>
[Collection(HttpApiCollection.Name)]
public class HttpApiRequestTests(HttpApiSilo silo)
{
    [Fact]
    public async Task A_quota_rejection_is_429_naming_the_quota_and_the_current_usage()
    {
        using var http = silo.Http(silo.KeySmallQuota);
        var problem = await ProblemOf(await http.PostAsync("v1/jobs", Json("""{"modelId":"tiny","frames":8,"outputSize":16}""")),
            HttpStatusCode.TooManyRequests);
        var quota = Assert.Single(problem.GetProperty("quotas").EnumerateArray());
        Assert.Equal("maxQueuedFrames", quota.GetProperty("quota").GetString());
        Assert.Equal($"quota maxQueuedFrames: 0 frames queued + 8 would exceed {HttpApiSilo.SmallQueuedFrames}", quota.GetProperty("detail").GetString());
        Assert.Equal(0, problem.GetProperty("usage").GetProperty("queuedFrames").GetInt32());
        Assert.Equal(HttpApiSilo.SmallQueuedFrames, problem.GetProperty("limits").GetProperty("maxQueuedFrames").GetInt32());
        Assert.Empty((await JsonOf(await http.GetAsync("v1/jobs"))).GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task Answers_with_secrets_or_private_data_tell_caches_not_to_store_them()
    {
        using var admin = silo.Http(silo.AdminKey);
        var issued = await admin.PostAsync("v1/admin/tenants", Json($$"""{"tenant":"cache-{{Guid.NewGuid():N}}"}"""));
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.Contains("\"apiKey\"", await issued.Content.ReadAsStringAsync());
        Assert.True(issued.Headers.CacheControl?.NoStore, "an issued API key must not be stored by any cache");

        using var tenant = silo.Http(silo.KeyA);
        Assert.True((await tenant.GetAsync("v1/jobs")).Headers.CacheControl?.NoStore);
        Assert.True((await tenant.GetAsync("v1/usage")).Headers.CacheControl?.NoStore);
        using var anonymous = silo.Http(null);
        var refused = await anonymous.GetAsync("v1/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.True(refused.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task The_job_list_comes_a_bounded_page_at_a_time_and_bad_paging_arguments_are_named()
    {
        using var admin = silo.Http(silo.AdminKey);
        var issued = await JsonOf(await admin.PostAsync("v1/admin/tenants", Json($$"""{"tenant":"pages-{{Guid.NewGuid():N}}"}""")));
        using var http = silo.Http(issued.GetProperty("apiKey").GetString());
        foreach (var id in new[] { "p1", "p2", "p3" })
            Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync($"v1/jobs?jobId={id}", Json("""{"modelId":"tiny","frames":1,"outputSize":16}"""))).StatusCode);

        var first = await JsonOf(await http.GetAsync("v1/jobs?limit=2"));
        Assert.Equal(["p1", "p2"], first.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));
        Assert.Equal("p2", first.GetProperty("next").GetString());
        var last = await JsonOf(await http.GetAsync("v1/jobs?limit=2&after=p2"));
        Assert.Equal(["p3"], last.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()));
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next").ValueKind);
        Assert.Equal(3, (await JsonOf(await http.GetAsync("v1/jobs"))).GetProperty("jobs").GetArrayLength()); // default page: 100

        foreach (var bad in new[] { "0", "1001", "-1", "ten", "2.5" })
            Assert.NotEmpty(FieldErrors(await ProblemOf(await http.GetAsync($"v1/jobs?limit={bad}"), HttpStatusCode.BadRequest), "limit"));
        Assert.NotEmpty(FieldErrors(await ProblemOf(await http.GetAsync("v1/jobs?after=nope"), HttpStatusCode.BadRequest), "after"));
    }

    [Fact]
    public async Task Validation_errors_name_each_field_with_the_validators_message_and_limit()
    {
        using var http = silo.Http(silo.KeyA);
        var problem = await ProblemOf(await http.PostAsync("v1/jobs",
            Json("""{"modelId":"tiny","frames":0,"fps":0,"outputSize":4,"resize":"cubic","steps":2,"intermediateTimes":[1.1,0.5]}""")),
            HttpStatusCode.BadRequest);
        Assert.Equal(["frames: must be in [1, 10000], got 0"], FieldErrors(problem, "frames"));
        Assert.Equal(["fps: must be in [1, 60], got 0"], FieldErrors(problem, "fps"));
        Assert.Equal(["outputSize: must be in [8, 1024], got 4"], FieldErrors(problem, "outputSize"));
        Assert.Equal(["resize: must be 'bilinear' or 'nearest', got 'cubic'"], FieldErrors(problem, "resize"));
        Assert.Contains("needs steps - 1 = 1 values, got 2", FieldErrors(problem, "intermediateTimes")[0]);

        // Checks that need the model happen in the cluster; they come back the same way.
        var classes = await ProblemOf(await http.PostAsync("v1/jobs", Json("""{"modelId":"tiny","classes":[3,12],"outputSize":16}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["classes: model 'tiny' has classes 0..9, got [3, 12]"], FieldErrors(classes, "classes"));
        var model = await ProblemOf(await http.PostAsync("v1/jobs", Json("""{"modelId":"nope","outputSize":16}""")), HttpStatusCode.BadRequest);
        Assert.StartsWith("modelId: unknown model 'nope'", FieldErrors(model, "modelId")[0]);
        var jobId = await ProblemOf(await http.PostAsync("v1/jobs?jobId=bad%20id!", Json("""{"modelId":"tiny","outputSize":16}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["jobId: 1-64 characters from [A-Za-z0-9-_]"], FieldErrors(jobId, "jobId"));
    }

    [Fact]
    public async Task Unknown_properties_wrong_types_and_nulls_are_rejected_by_name()
    {
        using var http = silo.Http(silo.KeyA);
        var typo = await ProblemOf(await http.PostAsync("v1/jobs", Json("""{"modelId":"tiny","frams":8}""")), HttpStatusCode.BadRequest);
        Assert.StartsWith("frams: unknown property", FieldErrors(typo, "frams")[0]);

        var types = await ProblemOf(await http.PostAsync("v1/jobs",
            Json("""{"frames":"8","kind":"Movie","mp4":1,"classes":[1,"2"],"modelId":null,"seed":-1,"itemFrames":null}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["frames: must be an integer (32-bit), got the string '8'"], FieldErrors(types, "frames"));
        Assert.Equal(["kind: must be one of 'ImageSet', 'Video', got the string 'Movie'"], FieldErrors(types, "kind"));
        Assert.Equal(["mp4: must be true or false, got the number 1"], FieldErrors(types, "mp4"));
        Assert.Equal(["classes: must be an array of integers (32-bit), got the string '2' at [1]"], FieldErrors(types, "classes"));
        Assert.Equal(["modelId: must be a string, got null"], FieldErrors(types, "modelId"));
        Assert.Equal(["seed: must be a non-negative integer (64-bit), got the number -1"], FieldErrors(types, "seed"));
        Assert.False(types.GetProperty("errors").TryGetProperty("itemFrames", out _)); // nullable: null means the default

        var twice = await ProblemOf(await http.PostAsync("v1/jobs", Json("""{"frames":8,"frames":9}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["frames: given more than once"], FieldErrors(twice, "frames"));
    }

    [Fact]
    public async Task Malformed_bodies_wrong_media_types_and_oversize_bodies_are_refused()
    {
        using var http = silo.Http(silo.KeyA);
        var broken = await ProblemOf(await http.PostAsync("v1/jobs", Json("""{"frames": 8""")), HttpStatusCode.BadRequest);
        Assert.StartsWith("body: not valid JSON at line 1, byte ", FieldErrors(broken, "body")[0]);
        var array = await ProblemOf(await http.PostAsync("v1/jobs", Json("[1, 2]")), HttpStatusCode.BadRequest);
        Assert.Equal(["body: must be a JSON object (a job spec), got an array of 2 items"], FieldErrors(array, "body"));
        await ProblemOf(await http.PostAsync("v1/jobs", new StringContent("frames=8", Encoding.UTF8, "application/x-www-form-urlencoded")),
            HttpStatusCode.UnsupportedMediaType);

        var huge = "{\"modelId\":\"tiny\"" + new string(' ', 70_000) + "}";
        var sized = await ProblemOf(await http.PostAsync("v1/jobs", Json(huge)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536", sized.GetProperty("detail").GetString());
        // Without Content-Length (chunked) the limit holds while reading.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        chunked.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/jobs") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await ProblemOf(await http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_route_the_key_schemes_and_the_problem_responses()
    {
        using var http = silo.Http(null);
        var response = await http.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await JsonOf(response);
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        Assert.Equal(
            ["/v1/admin/cluster", "/v1/admin/tenants", "/v1/admin/tenants/{tenant}", "/v1/admin/tenants/{tenant}/keys",
             "/v1/admin/tenants/{tenant}/keys/{keyId}", "/v1/admin/tenants/{tenant}/quota", "/v1/admin/tenants/{tenant}/weight",
             "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/events", "/v1/jobs/{id}/frames/{index}",
             "/v1/jobs/{id}/frames/{index}/thumbnail", "/v1/jobs/{id}/manifest", "/v1/jobs/{id}/video",
             "/v1/jobs/{id}:cancel", "/v1/usage"],
            paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var createTenant = paths.GetProperty("/v1/admin/tenants").GetProperty("post").GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "201", "400", "401", "403", "409", "503" }, createTenant);
        Assert.True(paths.GetProperty("/v1/admin/tenants/{tenant}/quota").TryGetProperty("patch", out _));
        var submit = paths.GetProperty("/v1/jobs").GetProperty("post");
        var codes = submit.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "202", "400", "401", "409", "413", "415", "429", "503" }, codes);
        Assert.True(submit.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}:cancel").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/jobs/{id}/frames/{index}").GetProperty("get").GetProperty("responses").GetProperty("200")
            .GetProperty("content").TryGetProperty("image/png", out _));
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("ApiKey").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("X-Api-Key").GetProperty("name").GetString());
        Assert.Equal(2, document.GetProperty("security").GetArrayLength());
    }

    [Fact]
    public async Task With_the_API_disabled_the_routes_and_the_document_do_not_exist()
    {
        using var http = new HttpClient { BaseAddress = silo.Disabled.HttpBase };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(Get("v1/jobs", silo.KeyA))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("v1/jobs", Json("""{"modelId":"tiny"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("openapi/v1.json")).StatusCode);
    }
}
