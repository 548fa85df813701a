using ClusterClient;
using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>Multi-tenancy: keys, isolation, quota admission under concurrency, persistence of quota state.</summary>
public class TenantTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static JobSpec Images(int frames, int size = 16) => new()
    {
        Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [0, 1, 2], Frames = frames, Seed = 3, Steps = 1, OutputSize = size,
    };

    static readonly Dictionary<string, string?> LongLeases = new() { ["Scheduler:LeaseTimeout"] = "00:02:00" };

    [Fact]
    public async Task Concurrent_submits_from_five_tenants_never_over_admit_jobs_or_frames_and_cancel_releases_everything()
    {
        var faults = new TestFaults();
        await using var harness = await ClusterHarness.StartAsync(silos: 1, faults: faults, settings: LongLeases);
        var admin = harness.AdminApi;
        var tenants = new List<(string Name, GenerationClient Client, int FramesPerJob, int ExpectedJobs)>();
        for (int t = 0; t < 5; t++)
        {
            var name = $"race{t}";
            var key = await admin.CreateTenantAsync(name, new QuotaPatch { MaxRunningJobs = 10, MaxQueuedFrames = 60 });
            // 8-frame jobs: the frame quota binds at 7 jobs (56 frames); 4-frame jobs: the job quota binds at 10.
            tenants.Add((name, harness.Api(key.ApiKey), t < 3 ? 8 : 4, t < 3 ? 7 : 10));
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var submits = tenants.SelectMany(t => Enumerable.Range(0, 100).Select(async i =>
        {
            var (id, result) = await t.Client.SubmitAsync(Images(t.FramesPerJob), $"held-{t.Name}-{i}");
            return (t.Name, id, result);
        })).ToList();
        var results = await Task.WhenAll(submits);
        output.WriteLine($"500 submits in {clock.ElapsedMilliseconds} ms");

        foreach (var t in tenants)
        {
            var mine = results.Where(r => r.Name == t.Name).ToList();
            var accepted = mine.Where(r => r.result.Accepted).ToList();
            Assert.Equal(t.ExpectedJobs, accepted.Count);
            foreach (var rejected in mine.Where(r => !r.result.Accepted))
                Assert.Contains(rejected.result.Errors, e => e.StartsWith(t.FramesPerJob == 8 ? "quota maxQueuedFrames" : "quota maxRunningJobs", StringComparison.Ordinal));
            var usage = await t.Client.UsageAsync();
            Assert.Equal(t.ExpectedJobs, usage.Usage.RunningJobs);
            Assert.Equal(t.ExpectedJobs * t.FramesPerJob, usage.Usage.QueuedFrames);
            Assert.True(usage.Usage.QueuedFrames <= 60 && usage.Usage.RunningJobs <= 10);
            Assert.Equal(accepted.Select(a => a.id).Order(), (await t.Client.ListAsync()).Select(s => s.JobId).Order());
        }
        var rejectedExample = results.First(r => !r.result.Accepted && r.Name == "race0").result.Errors[0];
        output.WriteLine($"a rejection: {rejectedExample}");
        Assert.Contains("56 frames queued + 8 would exceed 60", rejectedExample);

        // Cancelling releases each job's reservation exactly once, even when cancelled twice.
        foreach (var t in tenants)
            foreach (var job in await t.Client.ListAsync())
            {
                Assert.True(await t.Client.CancelAsync(job.JobId));
                Assert.False(await t.Client.CancelAsync(job.JobId));
            }
        foreach (var t in tenants)
        {
            var usage = (await t.Client.UsageAsync()).Usage;
            Assert.Equal(0, usage.RunningJobs);
            Assert.Equal(0, usage.QueuedFrames);
        }
        faults.HeldGate.TrySetResult();
        // Admission is open again.
        var (_, again) = await tenants[0].Client.SubmitAsync(Images(8), "after-cancel");
        Assert.True(again.Accepted, string.Join("; ", again.Errors));
    }

    [Fact]
    public async Task A_tenant_cannot_read_list_fetch_or_cancel_another_tenants_jobs_and_bad_keys_get_named_auth_errors()
    {
        var faults = new TestFaults();
        var settings = new Dictionary<string, string?>(LongLeases) { ["Tenants:RestrictClientCalls"] = "true" };
        await using var harness = await ClusterHarness.StartAsync(silos: 1, faults: faults, settings: settings);
        var admin = harness.AdminApi;
        var alice = harness.Api((await admin.CreateTenantAsync("alice")).ApiKey);
        var bobKey = (await admin.CreateTenantAsync("bob")).ApiKey;
        var bob = harness.Api(bobKey);

        var (done, r1) = await alice.SubmitAsync(Images(8), "alice-done");
        Assert.True(r1.Accepted, string.Join("; ", r1.Errors));
        var (held, r2) = await alice.SubmitAsync(Images(8), "held-alice");
        Assert.True(r2.Accepted, string.Join("; ", r2.Errors));
        JobStatus completed;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(completed = (await alice.GetStatusAsync(done))!).IsTerminal && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(JobState.Completed, completed.State);
        Assert.Equal("tenants/alice/jobs/alice-done/", completed.BlobPrefix);

        // Bob: another tenant's jobs look exactly like jobs that do not exist.
        Assert.Null(await bob.GetStatusAsync(done));
        Assert.Null(await bob.GetStatusAsync(held));
        Assert.False(await bob.CancelAsync(held));
        Assert.Empty(await bob.ListAsync());
        var target = Path.Combine(harness.BlobRoot, "..", "fetch-" + Guid.NewGuid().ToString("N"));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => bob.FetchAsync(done, harness.Blobs, target));
        Assert.False(Directory.Exists(target));
        // Job ids are per tenant: bob submitting alice's id gets a job of his own, learns nothing about hers and
        // takes nothing from her; only his own id is taken afterwards.
        var reuse = (await bob.SubmitAsync(Images(4), done)).Result;
        Assert.True(reuse.Accepted, string.Join("; ", reuse.Errors));
        Assert.Equal("bob", reuse.Status!.Tenant);
        Assert.Equal($"tenants/bob/jobs/{done}/", reuse.Status.BlobPrefix);
        var taken = (await bob.SubmitAsync(Images(4), done)).Result;
        Assert.Equal([$"jobId: '{done}' already exists"], taken.Errors);
        Assert.True((await bob.UsageAsync()).Usage.RunningJobs <= 1); // the refused submit released its reservation
        var hers = (await alice.GetStatusAsync(done))!;
        Assert.Equal((JobState.Completed, "alice", 8, completed.ManifestBlob), (hers.State, hers.Tenant, hers.FramesTotal, hers.ManifestBlob));
        Assert.Equal(AuthProblem.NotAdmin, (await Assert.ThrowsAsync<ApiAuthException>(() => bob.UsageAsync("alice"))).Problem);
        Assert.Equal(AuthProblem.NotAdmin, (await Assert.ThrowsAsync<ApiAuthException>(() => bob.CreateTenantAsync("mallory"))).Problem);
        Assert.Equal(AuthProblem.NotAdmin, (await Assert.ThrowsAsync<ApiAuthException>(() => bob.SetQuotaAsync("bob", new QuotaPatch { MaxRunningJobs = 1000 }))).Problem);
        Assert.Equal(AuthProblem.NotAdmin, (await Assert.ThrowsAsync<ApiAuthException>(() => bob.ListTenantsAsync())).Problem);
        var snapshot = (await harness.Client.GetGrain<IClusterApiGrain>(0).Cluster(bobKey)).Scheduler;
        Assert.All(snapshot.Tenants, t => Assert.Equal("bob", t.Tenant));

        // Nobody reaches the internal grains from outside: the API grain is the only door.
        var direct = await Assert.ThrowsAsync<ApiAuthException>(() => harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("alice", done)).GetStatus());
        Assert.Equal(AuthProblem.NotPermitted, direct.Problem);
        output.WriteLine(direct.Message);
        await Assert.ThrowsAsync<ApiAuthException>(() => harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("alice", "sneaky")).Submit(Images(4), "alice"));
        await Assert.ThrowsAsync<ApiAuthException>(() => harness.Client.GetGrain<ITenantGrain>("bob").SetQuota(new QuotaPatch { MaxRunningJobs = 1000 }));
        await Assert.ThrowsAsync<ApiAuthException>(() => harness.Client.GetGrain<IJobIndexGrain>("alice").List());

        // Alice still has everything.
        Assert.NotNull(await alice.GetStatusAsync(held));
        Assert.Equal(new[] { "alice-done", "held-alice" }, (await alice.ListAsync()).Select(s => s.JobId).Order());
        var files = await alice.FetchAsync(done, harness.Blobs, target);
        Assert.Equal(9, files.Count); // 8 frames + manifest
        Assert.True(await alice.CancelAsync(held));

        // Bad keys: each problem is named.
        var bobId = ApiKeys.Parse(bobKey).KeyId;
        Assert.Equal(AuthProblem.MissingKey, (await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api(null).ListAsync())).Problem);
        Assert.Equal(AuthProblem.MalformedKey, (await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api("hunter2").ListAsync())).Problem);
        Assert.Equal(AuthProblem.UnknownKey, (await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api("scm_0123456789abcdef_secret").ListAsync())).Problem);
        var wrong = await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api($"scm_{bobId}_not-the-secret").GetStatusAsync(done));
        Assert.Equal(AuthProblem.WrongKey, wrong.Problem);
        Assert.Contains(bobId, wrong.Message);
        await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api($"scm_{bobId}_x").SubmitAsync(Images(4)));
        faults.HeldGate.TrySetResult();
        Directory.Delete(target, recursive: true);
    }

    [Fact]
    public async Task Rotating_a_key_revokes_the_old_one_and_revoked_keys_are_refused_including_the_bootstrap_admin_key()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1);
        var admin = harness.AdminApi;
        var key1 = await admin.CreateTenantAsync("carol");
        Assert.Equal("carol", (await harness.Api(key1.ApiKey).WhoAmIAsync()).Tenant);

        var key2 = await admin.RotateKeyAsync("carol");
        Assert.Equal("carol", (await harness.Api(key2.ApiKey).WhoAmIAsync()).Tenant);
        Assert.Equal(AuthProblem.RevokedKey, (await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api(key1.ApiKey).ListAsync())).Problem);

        var key3 = await admin.RotateKeyAsync("carol", keepOld: true);
        await harness.Api(key2.ApiKey).ListAsync();
        await harness.Api(key3.ApiKey).ListAsync();
        Assert.Equal(1, await admin.RevokeAsync("carol", key2.KeyId));
        Assert.Equal(AuthProblem.RevokedKey, (await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api(key2.ApiKey).ListAsync())).Problem);
        Assert.Equal(new[] { key3.KeyId }, (await harness.Api(key3.ApiKey).UsageAsync()).ActiveKeyIds);
        Assert.Equal(1, await admin.RevokeAsync("carol"));
        Assert.Equal(AuthProblem.RevokedKey, (await Assert.ThrowsAsync<ApiAuthException>(() => harness.Api(key3.ApiKey).SubmitAsync(Images(4)))).Problem);

        // The admin replaces the bootstrap key: rotating the admin tenant revokes it.
        var newAdmin = await admin.RotateKeyAsync("admin");
        Assert.True((await harness.Api(newAdmin.ApiKey).WhoAmIAsync()).IsAdmin);
        Assert.Equal(AuthProblem.RevokedKey, (await Assert.ThrowsAsync<ApiAuthException>(() => admin.ListTenantsAsync())).Problem);
        Assert.Equal(new[] { "admin", "carol" }, (await harness.Api(newAdmin.ApiKey).ListTenantsAsync()).Select(t => t.Id));
    }

    [Fact]
    public async Task Completed_and_failed_jobs_release_their_reservations_and_measured_device_seconds_enforce_the_daily_quota()
    {
        var faults = new TestFaults();
        faults.Poisoned[("poisoned-job", 0)] = true;
        await using var harness = await ClusterHarness.StartAsync(silos: 1, faults: faults);
        var erin = harness.Api((await harness.AdminApi.CreateTenantAsync("erin", new QuotaPatch { MaxRunningJobs = 2, FramesPerDay = 30 })).ApiKey);

        Assert.True((await erin.SubmitAsync(Images(12), "ok-job")).Result.Accepted);
        Assert.True((await erin.SubmitAsync(Images(8), "poisoned-job")).Result.Accepted);
        // 12 + 8 reserved + 12 would pass 30 frames per day.
        Assert.Contains((await erin.SubmitAsync(Images(12), "too-many")).Result.Errors, e => e.StartsWith("quota framesPerDay", StringComparison.Ordinal));
        Assert.Equal(JobState.Completed, (await JobWaiter.UntilTerminalAsync(harness.Client, "ok-job", TimeSpan.FromSeconds(60), tenant: "erin")).State);
        Assert.Equal(JobState.Failed, (await JobWaiter.UntilTerminalAsync(harness.Client, "poisoned-job", TimeSpan.FromSeconds(60), tenant: "erin")).State);

        TenantUsage usage;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do { usage = (await erin.UsageAsync()).Usage; await Task.Delay(50); }
        while (usage.RunningJobs > 0 && DateTime.UtcNow < deadline);
        output.WriteLine($"usage after both jobs: {usage}");
        Assert.Equal(0, usage.RunningJobs);
        Assert.Equal(0, usage.QueuedFrames);
        Assert.True(usage.Frames24h >= 12 && usage.Frames24h <= 20, $"frames 24 h {usage.Frames24h}");
        Assert.True(usage.DeviceSeconds24h > 0);
        var status = await erin.GetStatusAsync("ok-job");
        Assert.True(usage.DeviceSeconds24h >= status!.DeviceSeconds - 1e-9);

        // The measured device-seconds now exceed a tiny daily budget: the next submit says so.
        await harness.AdminApi.SetQuotaAsync("erin", new QuotaPatch { DeviceSecondsPerDay = usage.DeviceSeconds24h / 2 });
        var rejected = (await erin.SubmitAsync(Images(4), "over-budget")).Result;
        Assert.False(rejected.Accepted);
        output.WriteLine(rejected.Errors[0]);
        Assert.StartsWith("quota deviceSecondsPerDay", rejected.Errors[0]);
        await harness.AdminApi.SetQuotaAsync("erin", new QuotaPatch { DeviceSecondsPerDay = 0, FramesPerDay = 0 });
        Assert.True((await erin.SubmitAsync(Images(4), "unlimited")).Result.Accepted);
    }

    [Fact]
    public async Task Quota_state_and_keys_survive_a_cluster_restart_with_Redis_storage()
    {
        var adminKey = ClusterHarness.NewAdminKey();
        var serviceId = "scm-tenants-" + Guid.NewGuid().ToString("N")[..10];
        string tenantKey;
        var faults1 = new TestFaults();
        await using (var first = await ClusterHarness.StartAsync(silos: 1, faults: faults1, storage: "Redis", serviceId: serviceId, adminKey: adminKey, settings: LongLeases))
        {
            tenantKey = (await first.AdminApi.CreateTenantAsync("dave", new QuotaPatch { MaxRunningJobs = 2, FramesPerDay = 100 })).ApiKey;
            var dave = first.Api(tenantKey);
            Assert.True((await dave.SubmitAsync(Images(8), "held-d1")).Result.Accepted);
            Assert.True((await dave.SubmitAsync(Images(8), "held-d2")).Result.Accepted);
            var third = (await dave.SubmitAsync(Images(8), "held-d3")).Result;
            Assert.Contains(third.Errors, e => e.StartsWith("quota maxRunningJobs: 2 of 2", StringComparison.Ordinal));
            await first.AdminApi.SetWeightAsync("dave", 3);
        }

        var faults2 = new TestFaults();
        await using var second = await ClusterHarness.StartAsync(silos: 1, faults: faults2, storage: "Redis", serviceId: serviceId, adminKey: adminKey, settings: LongLeases);
        var again = second.Api(tenantKey);
        var info = await again.UsageAsync();
        Assert.Equal(2, info.Usage.RunningJobs);
        Assert.Equal(16, info.Usage.QueuedFrames);
        Assert.Equal(2, info.Quota.MaxRunningJobs);
        Assert.Equal(100, info.Quota.FramesPerDay);
        Assert.Equal(3, info.Weight);
        Assert.Contains((await again.SubmitAsync(Images(8), "held-d3")).Result.Errors, e => e.StartsWith("quota maxRunningJobs", StringComparison.Ordinal));
        // The scheduler of the new cluster learned the weight from the tenant directory.
        var snapshot = await second.Client.GetGrain<ISchedulerGrain>(0).Snapshot();
        output.WriteLine(string.Join(", ", snapshot.Tenants.Select(t => $"{t.Tenant}:{t.Weight}")));
        Assert.Equal(3, snapshot.Tenants.Single(t => t.Tenant == "dave").Weight);
        // Cancelling a job of the old cluster releases its reservation.
        Assert.True(await again.CancelAsync("held-d1"));
        Assert.Equal(1, (await again.UsageAsync()).Usage.RunningJobs);
        Assert.True((await again.SubmitAsync(Images(8), "d4")).Result.Accepted);
        faults2.HeldGate.TrySetResult();
    }
}
