using Grains.Interfaces;
using Xunit.Abstractions;

namespace Cluster.Tests;

/// <summary>
/// Every generated malformed request against ONE in-process cluster: specs (through <c>GenerationClient</c>, which
/// validates first, and straight to the API grain, as a hostile client or the HTTP API would), JSON bodies that
/// deserialise but are out of range, API keys, tenant names, quotas, weights and job ids. Each is refused with an
/// error naming the field; afterwards the silo still runs a job, and nothing was created: no job, no reservation,
/// no counted submit, no tenant, no blob.
/// </summary>
public class MalformedRequestTests(ITestOutputHelper output)
{
    readonly List<string> failures = [];
    int calls;

    [Fact]
    public async Task Malformed_requests_are_refused_naming_the_field_and_leave_nothing_behind_while_the_silo_keeps_serving()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var admin = harness.AdminApi;
        var fuzzKey = (await admin.CreateTenantAsync("fuzz")).ApiKey;
        var fuzz = harness.Api(fuzzKey);
        var api = harness.Client.GetGrain<IClusterApiGrain>(0);
        var before = await fuzz.UsageAsync();
        var jobIds = new List<string>();
        int quotaRejections = 0;

        foreach (var c in MalformedInputs.Specs())
        {
            var id = $"fuzz-spec-{jobIds.Count}";
            jobIds.Add(id);
            Check($"{c.Name} (client)", (await fuzz.SubmitAsync(c.Spec, id)).Result, c.Field, c.Limit);
            Check($"{c.Name} (api grain)", await api.Submit(fuzzKey, id, c.Spec), c.Field, c.Limit);
            if (c.QuotaOnly) quotaRejections += 2;
        }
        foreach (var c in MalformedInputs.JsonCases())
        {
            // Bodies that are not a spec never reach the cluster (MalformedInputTests); the rest go in as specs.
            if (JobSpecJson.Read(c.Body).Spec is not { } spec) continue;
            var id = $"fuzz-json-{jobIds.Count}";
            jobIds.Add(id);
            Check($"json {c.Name} (api grain)", await api.Submit(fuzzKey, id, spec), c.Field ?? "line ", c.Limit);
        }

        await KeysAsync(harness);
        await TenantAdministrationAsync(harness, fuzz);
        await JobIdsAsync(fuzz, api, fuzzKey);
        output.WriteLine($"{calls} refused calls");
        Assert.True(failures.Count == 0, $"{failures.Count} of {calls} calls were not refused properly:\n" + string.Join("\n", failures));

        // Nothing was created or counted.
        Assert.Empty(await fuzz.ListAsync());
        var after = await fuzz.UsageAsync();
        Assert.Equal(before.Quota, after.Quota);
        Assert.Equal(before.Weight, after.Weight);
        Assert.Equal(before.ActiveKeyIds, after.ActiveKeyIds);
        Assert.Equal(before.Usage with { JobsRejected = quotaRejections }, after.Usage);
        Assert.Equal(new[] { "admin", "fuzz" }, (await admin.ListTenantsAsync()).Select(t => t.Id).Order(StringComparer.Ordinal));
        foreach (var id in jobIds) Assert.Null(await harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("fuzz", id)).GetStatus());
        await foreach (var blob in harness.Blobs.ListAsync("")) Assert.Fail($"blob written: {blob}");
        var scheduler = await harness.Client.GetGrain<ISchedulerGrain>(0).Snapshot();
        Assert.Equal(0, scheduler.Tenants.Sum(t => t.QueuedItems));

        // The silo still serves: a valid job of the same tenant completes.
        var (jobId, result) = await fuzz.SubmitAsync(MalformedInputs.Valid, "fuzz-valid");
        Assert.True(result.Accepted, string.Join("; ", result.Errors));
        Assert.Equal(JobState.Completed, (await JobWaiter.UntilTerminalAsync(harness.Client, jobId, TimeSpan.FromSeconds(120), tenant: "fuzz")).State);
        Assert.Equal(new[] { jobId }, (await fuzz.ListAsync()).Select(s => s.JobId));
    }

    async Task KeysAsync(ClusterHarness harness)
    {
        var adminKeyId = ApiKeys.Parse(harness.AdminKey).KeyId;
        foreach (var (name, key, problem) in MalformedInputs.BadKeys(adminKeyId))
        {
            var client = harness.Api(key);
            await ExpectAuth($"key {name}: whoami", client.WhoAmIAsync(), problem);
            await ExpectAuth($"key {name}: submit", client.SubmitAsync(MalformedInputs.Valid, "fuzz-by-bad-key"), problem);
            await ExpectAuth($"key {name}: list", client.ListAsync(), problem);
            await ExpectAuth($"key {name}: status", client.GetStatusAsync("fuzz-spec-0"), problem);
            await ExpectAuth($"key {name}: create tenant", client.CreateTenantAsync("created-by-bad-key"), problem);
        }
    }

    async Task TenantAdministrationAsync(ClusterHarness harness, ClusterClient.GenerationClient fuzz)
    {
        var admin = harness.AdminApi;
        foreach (var (name, tenant) in MalformedInputs.BadTenantNames())
        {
            await Expect($"tenant {name}: create", admin.CreateTenantAsync(tenant!), "tenant", "64");
            await Expect($"tenant {name}: set-quota", admin.SetQuotaAsync(tenant!, new QuotaPatch { MaxRunningJobs = 1 }), "tenant", "64");
            await Expect($"tenant {name}: set-weight", admin.SetWeightAsync(tenant!, 2), "tenant", "64");
            await Expect($"tenant {name}: rotate-key", admin.RotateKeyAsync(tenant!), "tenant", "64");
            await Expect($"tenant {name}: revoke", admin.RevokeAsync(tenant!), "tenant", "64");
            if (tenant is not null) await Expect($"tenant {name}: usage", admin.UsageAsync(tenant), "tenant", "64");
        }
        await Expect("tenant exists: create", admin.CreateTenantAsync("fuzz"), "tenant", "already exists");
        await Expect("tenant missing: set-quota", admin.SetQuotaAsync("ghost", new QuotaPatch()), "tenant", "does not exist");
        await Expect("tenant missing: set-weight", admin.SetWeightAsync("ghost", 2), "tenant", "does not exist");
        await Expect("tenant missing: rotate-key", admin.RotateKeyAsync("ghost"), "tenant", "does not exist");
        await Expect("tenant missing: revoke", admin.RevokeAsync("ghost"), "tenant", "does not exist");
        await Expect("tenant missing: usage", admin.UsageAsync("ghost"), "tenant", "does not exist");
        await Expect("set-quota without a patch", admin.SetQuotaAsync("fuzz", null!), "quota");

        foreach (var weight in MalformedInputs.BadWeights)
        {
            await Expect($"weight {weight}: create", admin.CreateTenantAsync("weighty", weight: weight), "weight", "1000");
            await Expect($"weight {weight}: set-weight", admin.SetWeightAsync("fuzz", weight), "weight", "1000");
        }
        foreach (var (name, patch, field) in MalformedInputs.BadQuotas())
        {
            await Expect($"quota {name}: create", admin.CreateTenantAsync("quota-less", patch), field, ">= 0");
            await Expect($"quota {name}: set-quota", admin.SetQuotaAsync("fuzz", patch), field, ">= 0");
        }
        foreach (var (name, keyId) in MalformedInputs.HostileStrings.Append(("well-formed, not the tenant's", "0123456789abcdef")))
            await Expect($"revoke key id {name}", admin.RevokeAsync("fuzz", keyId), "keyId");

        // A tenant's key is not an admin's.
        await ExpectAuth("non-admin: create tenant", fuzz.CreateTenantAsync("by-fuzz"), AuthProblem.NotAdmin);
        await ExpectAuth("non-admin: usage of admin", fuzz.UsageAsync("admin"), AuthProblem.NotAdmin);
        await ExpectAuth("non-admin: set own quota", fuzz.SetQuotaAsync("fuzz", new QuotaPatch { MaxRunningJobs = 1000 }), AuthProblem.NotAdmin);
        await ExpectAuth("non-admin: rotate admin key", fuzz.RotateKeyAsync("admin"), AuthProblem.NotAdmin);
    }

    async Task JobIdsAsync(ClusterClient.GenerationClient fuzz, IClusterApiGrain api, string fuzzKey)
    {
        foreach (var (name, jobId) in MalformedInputs.BadJobIds().Append(("null", null!)))
        {
            calls += 4;
            if (await fuzz.GetStatusAsync(jobId) is not null) failures.Add($"job id {name}: status found");
            if (await fuzz.CancelAsync(jobId)) failures.Add($"job id {name}: cancelled");
            await Expect<KeyNotFoundException>($"job id {name}: watch", fuzz.WatchAsync(jobId).GetAsyncEnumerator().MoveNextAsync().AsTask(), "jobId");
            await Expect<KeyNotFoundException>($"job id {name}: fetch", fuzz.FetchAsync(jobId, null!, Path.GetTempPath()), "jobId");
            if (TenantRules.IsValidId(jobId)) continue; // a well-formed id would simply create the job
            Check($"job id {name}: submit (api grain)", await api.Submit(fuzzKey, jobId, MalformedInputs.Valid), "jobId", "64");
            if (jobId is not null) Check($"job id {name}: submit (client)", (await fuzz.SubmitAsync(MalformedInputs.Valid, jobId)).Result, "jobId", "64");
        }
    }

    void Check(string name, SubmitResult result, string field, string? limit)
    {
        calls++;
        if (result.Accepted) failures.Add($"{name}: accepted");
        else if (MalformedInputTests.Problem(result.Errors, field, limit) is { } problem) failures.Add($"{name}: {problem}");
    }

    Task Expect(string name, Task call, string field, string? limit = null) => Expect<RejectedException>(name, call, field, limit);

    async Task Expect<TException>(string name, Task call, string field, string? limit = null) where TException : Exception
    {
        calls++;
        try
        {
            await call;
            failures.Add($"{name}: no error");
        }
        catch (TException e)
        {
            if (MalformedInputTests.Problem([e.Message], field, limit) is { } problem) failures.Add($"{name}: {problem}");
        }
        catch (Exception e)
        {
            failures.Add($"{name}: {e.GetType().Name} instead of {typeof(TException).Name}: {JobSpecValidator.Echo(e.Message)}");
        }
    }

    async Task ExpectAuth(string name, Task call, AuthProblem problem)
    {
        calls++;
        try
        {
            await call;
            failures.Add($"{name}: no error");
        }
        catch (ApiAuthException e)
        {
            if (e.Problem != problem) failures.Add($"{name}: {e.Problem} instead of {problem}");
            else if (e.Message.Length > MalformedInputTests.MaxErrorLength) failures.Add($"{name}: an error of {e.Message.Length} characters");
        }
        catch (Exception e)
        {
            failures.Add($"{name}: {e.GetType().Name} instead of {problem}: {JobSpecValidator.Echo(e.Message)}");
        }
    }
}
