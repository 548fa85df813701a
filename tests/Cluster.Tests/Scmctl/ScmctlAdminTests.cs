using System.Net;
using static Cluster.Tests.HttpApiTesting;
using static Cluster.Tests.Scmctl.ScmctlProcess;

namespace Cluster.Tests.Scmctl;

/// <summary>The admin endpoints (/v1/admin/...) and `scmctl tenant|cluster` over them: admin keys only.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class ScmctlAdminTests(HttpApiSilo api)
{
    Uri Url => api.Silo.HttpBase;

    [Theory]
    [InlineData("GET", "v1/admin/tenants", null)]
    [InlineData("POST", "v1/admin/tenants", """{"tenant":"sneaky"}""")]
    [InlineData("GET", "v1/admin/tenants/http-b", null)]
    [InlineData("PATCH", "v1/admin/tenants/http-a/quota", """{"maxRunningJobs":1000}""")]
    [InlineData("PUT", "v1/admin/tenants/http-a/weight", """{"weight":1000}""")]
    [InlineData("POST", "v1/admin/tenants/http-b/keys", null)]
    [InlineData("DELETE", "v1/admin/tenants/http-b/keys", null)]
    [InlineData("GET", "v1/admin/cluster", null)]
    public async Task Admin_endpoints_refuse_a_tenant_key(string method, string path, string? body)
    {
        using var http = api.Http(api.KeyA);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json(body) };
        var problem = await ProblemOf(await http.SendAsync(request), HttpStatusCode.Forbidden);
        Assert.Equal("NotAdmin", problem.GetProperty("authProblem").GetString());

        using var anonymous = api.Http(null);
        using var again = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json(body) };
        await ProblemOf(await anonymous.SendAsync(again), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Scmctl_admin_commands_refuse_a_tenant_key_with_exit_code_4()
    {
        foreach (var args in new[] { new[] { "tenant", "list" }, ["cluster"], ["tenant", "set-weight", "http-a", "5"], ["tenant", "usage", "http-b"] })
        {
            var result = await RunAsync(Url, api.KeyA, args);
            Assert.True(result.ExitCode == 4, $"{string.Join(' ', args)}: {result}");
            Assert.Contains("auth: NotAdmin", AssertOneLineError(result));
        }
        Assert.Contains("tenant http-a", (await RunAsync(Url, api.KeyA, "tenant", "usage")).Stdout); // its own usage: fine
    }

    [Fact]
    public async Task An_admin_manages_a_tenant_end_to_end_through_scmctl()
    {
        var name = "cli-t-" + Guid.NewGuid().ToString("N")[..8];
        var keyFile = Path.Combine(Path.GetTempPath(), name + ".key");
        try
        {
            var create = await RunAsync(Url, api.AdminKey, "tenant", "create", name, "--max-queued-frames", "40", "--write-key-file", keyFile);
            Assert.True(create.ExitCode == 0, create.ToString());
            var key = File.ReadAllText(keyFile).Trim();
            Assert.Equal(2, (await RunAsync(Url, api.AdminKey, "tenant", "create", name)).ExitCode); // exists: refused

            var quota = await RunAsync(Url, api.AdminKey, "tenant", "set-quota", name, "--max-running-jobs", "3");
            Assert.Contains("jobs queued/running  0 / 3", quota.Stdout);
            Assert.Contains("frames queued        0 / 40", quota.Stdout);
            Assert.Contains("weight 2", (await RunAsync(Url, api.AdminKey, "tenant", "set-weight", name, "2")).Stdout);
            var badWeight = await RunAsync(Url, api.AdminKey, "tenant", "set-weight", name, "0");
            Assert.Equal(2, badWeight.ExitCode);
            Assert.Contains("weight: must be in", badWeight.Stderr);
            Assert.Contains(name, (await RunAsync(Url, api.AdminKey, "tenant", "list")).Stdout);
            Assert.Contains($"tenant {name}, weight 2", (await RunAsync(Url, key, "tenant", "usage")).Stdout);

            var cluster = await RunAsync(Url, api.AdminKey, "cluster");
            Assert.True(cluster.ExitCode == 0, cluster.ToString());
            Assert.Contains("http-on", cluster.Stdout);
            Assert.Contains("lease", cluster.Stdout); // each device's current lease, or "none (idle)"

            var rotate = await RunAsync(Url, api.AdminKey, "tenant", "rotate-key", name, "--write-key-file", keyFile);
            Assert.True(rotate.ExitCode == 0, rotate.ToString());
            Assert.Equal(4, (await RunAsync(Url, key, "list")).ExitCode); // the old key is revoked
            var newKey = File.ReadAllText(keyFile).Trim();
            Assert.Equal(0, (await RunAsync(Url, newKey, "list")).ExitCode);
            Assert.Contains("1 key(s) revoked", (await RunAsync(Url, api.AdminKey, "tenant", "revoke-key", name)).Stdout);
            Assert.Equal(4, (await RunAsync(Url, newKey, "list")).ExitCode);
            Assert.Equal(5, (await RunAsync(Url, api.AdminKey, "tenant", "set-weight", "no-such-tenant", "2")).ExitCode);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task Admin_bodies_are_read_strictly_and_problems_name_the_field()
    {
        using var http = api.Http(api.AdminKey);
        var unknown = await ProblemOf(await http.PutAsync("v1/admin/tenants/http-a/weight", Json("""{"wieght":2}""")), HttpStatusCode.BadRequest);
        Assert.Contains("wieght", unknown.ToString());
        var wrongType = await ProblemOf(await http.PutAsync("v1/admin/tenants/http-a/weight", Json("""{"weight":"2"}""")), HttpStatusCode.BadRequest);
        Assert.NotEmpty(FieldErrors(wrongType, "weight"));
        var range = await ProblemOf(await http.PatchAsync("v1/admin/tenants/http-a/quota", Json("""{"maxRunningJobs":-1}""")), HttpStatusCode.BadRequest);
        Assert.NotEmpty(FieldErrors(range, "maxRunningJobs"));
        var name = await ProblemOf(await http.PostAsync("v1/admin/tenants", Json("""{"tenant":"bad name!"}""")), HttpStatusCode.BadRequest);
        Assert.NotEmpty(FieldErrors(name, "tenant"));
        await ProblemOf(await http.GetAsync("v1/admin/tenants/nobody-here"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_offline_admin_key_is_one_the_cluster_verifies()
    {
        var result = await RunAsync(Url, null, "tenant", "admin-key");
        Assert.Equal(0, result.ExitCode);
        var key = result.Stdout.Split('\n').First(l => l.StartsWith("admin key", StringComparison.Ordinal)).Split(' ')[^1].Trim();
        var line = result.Stdout.Split('\n').First(l => l.Contains("AdminKeyHash=", StringComparison.Ordinal)).Split("AdminKeyHash=")[1].Trim();
        var (keyId, secret) = Grains.Interfaces.ApiKeys.Parse(key);
        var (hashKeyId, salt, hash) = Grains.Interfaces.ApiKeys.ParseHashLine(line)!.Value;
        Assert.Equal(keyId, hashKeyId);
        Assert.True(Grains.Interfaces.ApiKeys.Matches(salt, hash, secret));
    }
}
