using Grains.Interfaces;
using Grains.Jobs;
using Grains.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Grains.Tenants;

/// <summary>
/// The public entry point (see <see cref="IClusterApiGrain"/>). Stateless: every call authenticates its key against
/// the key's grain, or the silo's <see cref="VerifiedKeyCache"/> when the key was verified in the last
/// Tenants:KeyCacheSeconds (so a revocation takes effect within that time), then authorises: a tenant reaches
/// only its own jobs, admin operations need the admin role. Coordinators, tenants and the scheduler stay internal.
/// </summary>
[StatelessWorker]
public sealed class ClusterApiGrain(IOptions<TenantOptions> tenantOptions, IOptions<JobLimits> limits, ModelCatalog catalog,
    VerifiedKeyCache verifiedKeys, ILogger<ClusterApiGrain> logger) : Grain, IClusterApiGrain
{
    async Task<Principal> Authenticate(string apiKey)
    {
        var (keyId, secret) = ApiKeys.Parse(apiKey);
        if (verifiedKeys.TryGet(apiKey) is { } cached) return cached;
        var principal = await GrainFactory.GetGrain<IApiKeyGrain>(keyId).Verify(secret);
        verifiedKeys.Add(apiKey, principal);
        return principal;
    }

    async Task<Principal> Admin(string apiKey)
    {
        var principal = await Authenticate(apiKey);
        if (!principal.IsAdmin) throw new ApiAuthException(AuthProblem.NotAdmin, $"tenant '{principal.Tenant}' does not have the admin role");
        return principal;
    }

    public Task<Principal> WhoAmI(string apiKey) => Authenticate(apiKey);

    public async Task<SubmitResult> Submit(string apiKey, string jobId, JobSpec spec)
    {
        var principal = await Authenticate(apiKey);
        if (!IsValidId(jobId)) return SubmitResult.Rejected(Rejection.Invalid("jobId", TenantRules.IdRule));
        // Everything the coordinator would refuse is refused before the tenant reserves quota: a refused spec must
        // leave no reservation and no count of submitted jobs behind.
        var (_, errors) = await JobSpecChecks.ValidateAsync(spec, limits.Value, catalog);
        if (errors.Count > 0) return SubmitResult.Rejected(Rejection.Invalid(errors));
        var tenant = GrainFactory.GetGrain<ITenantGrain>(principal.Tenant);
        var coordinator = GrainFactory.GetGrain<IJobCoordinatorGrain>(JobKey.Of(principal.Tenant, jobId));
        // A job id is never reused, finished or not. Checked before reserving, so that from here on a job of this id can
        // only come from a submit holding this id's one reservation (see the conflict below).
        if (await coordinator.GetStatus() is not null) return SubmitResult.Rejected(Rejection.Conflict("jobId", $"'{jobId}' already exists"));
        // Reserve first: the tenant grain is single-threaded, so concurrent submits cannot over-admit.
        var refused = await tenant.Admit(jobId, spec);
        // A reservation without a job is what a submit leaves when its coordinator call and the check below both failed
        // (the coordinator's silo had just died): the client's retry of the same spec takes it over instead of being
        // refused as a conflict. Another spec under that id was never checked against the quotas, so it may not.
        bool claimed = false;
        if (refused?.Kind == RejectionKind.Conflict)
        {
            claimed = await tenant.ClaimReservation(jobId, spec);
            // Another submit's admission may have released that reservation as a leak since: then the id is free again.
            if (!claimed) refused = await tenant.Admit(jobId, spec);
        }
        bool takenOver = claimed && await coordinator.GetStatus() is null;
        if (refused is not null && !takenOver) return SubmitResult.Rejected(refused);
        try
        {
            var result = await coordinator.Submit(spec, principal.Tenant);
            // A refusal releases the reservation made for it, except a conflict: the job did not exist before the
            // reservation, so a concurrent submit of the same spec created it from this same reservation, which is now that job's.
            if (!result.Accepted && result.Rejection?.Kind != RejectionKind.Conflict) await tenant.JobEnded(jobId, 0, 0);
            return result;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Submit of {Job} for {Tenant} failed", jobId, principal.Tenant);
            try
            {
                // Not GetStatus: after a timeout the coordinator may still be validating the spec, and a job stored
                // after its reservation was released would run unmetered.
                if (!await coordinator.ExistsOrIsSubmitting()) await tenant.JobEnded(jobId, 0, 0);
            }
            catch (Exception inner) { logger.LogWarning(inner, "Could not check job {Job} after a failed submit", jobId); }
            throw;
        }
    }

    public async Task<JobStatus?> GetStatus(string apiKey, string jobId)
    {
        var principal = await Authenticate(apiKey);
        return await OwnStatus(principal, jobId);
    }

    public async Task<bool> Cancel(string apiKey, string jobId)
    {
        var principal = await Authenticate(apiKey);
        if (await OwnStatus(principal, jobId) is null) return false;
        return await GrainFactory.GetGrain<IJobCoordinatorGrain>(JobKey.Of(principal.Tenant, jobId)).Cancel();
    }

    public async Task<JobPage> List(string apiKey, string? after, int limit)
    {
        var principal = await Authenticate(apiKey);
        if (limit is < 1 or > JobPage.MaxLimit)
            throw new RejectedException(Rejection.Invalid("limit", $"must be in [1, {JobPage.MaxLimit}], got {limit}"));
        // One more than the page: whether a next page exists, without a second call.
        long? position = null;
        if (after is not null)
        {
            // The cursor is the previous page's last job id; its coordinator (the caller's own tenant's) knows its position.
            position = (IsValidId(after) ? await GrainFactory.GetGrain<IJobCoordinatorGrain>(JobKey.Of(principal.Tenant, after)).IndexPosition() : null)
                       ?? throw new RejectedException(Rejection.Invalid("after", $"no job {JobSpecValidator.Echo(after)} to continue after"));
        }
        var ids = await GrainFactory.GetGrain<IJobIndexGrain>(principal.Tenant).After(position, limit + 1);
        var page = ids.Take(limit).ToArray();
        var statuses = await Task.WhenAll(page.Select(id => OwnStatus(principal, id)));
        return new JobPage { Jobs = statuses.Where(s => s is not null).Select(s => s!).ToArray(), Next = ids.Length > limit ? page[^1] : null };
    }

    public async Task<SchedulerSnapshot> Snapshot(string apiKey)
    {
        var principal = await Authenticate(apiKey);
        var snapshot = await GrainFactory.GetGrain<ISchedulerGrain>(0).Snapshot();
        // A tenant sees its own queue row and its own jobs in the devices' leases, never another tenant's names or ids.
        return principal.IsAdmin ? snapshot : snapshot with
        {
            Tenants = snapshot.Tenants.Where(t => t.Tenant == principal.Tenant).ToArray(),
            Leases = snapshot.Leases.Select(l => l with { Jobs = l.Jobs.Where(j => j.Tenant == principal.Tenant).ToArray() }).ToArray(),
        };
    }

    public async Task<ClusterView> Cluster(string apiKey)
    {
        var snapshot = await Snapshot(apiKey); // authenticates, and keeps a tenant to its own queue row
        // Orleans' management grain is internal (ClientCallFilter): its activation lists name every tenant, job and
        // key. Only the silo list is passed on.
        var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        var silos = hosts.Select(h => new SiloSummary { Name = h.SiloName, Address = h.SiloAddress.ToString(), Status = h.Status.ToString() })
            .OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
        return new ClusterView { Silos = silos, Scheduler = snapshot };
    }

    public async Task<TenantInfo> Usage(string apiKey, string? tenant = null)
    {
        var principal = await Authenticate(apiKey);
        tenant ??= principal.Tenant;
        if (tenant != principal.Tenant && !principal.IsAdmin)
            throw new ApiAuthException(AuthProblem.NotAdmin, $"only an admin may read another tenant's usage");
        if (!IsValidId(tenant)) throw InvalidTenant();
        return await GrainFactory.GetGrain<ITenantGrain>(tenant).GetInfo() ?? throw UnknownTenant(tenant);
    }

    public async Task<IssuedKey> CreateTenant(string apiKey, string tenant, bool isAdmin = false, QuotaPatch? quota = null, double weight = 1)
    {
        await Admin(apiKey);
        if (!IsValidId(tenant)) throw InvalidTenant();
        if (TenantRules.CheckWeight(weight) is { } badWeight) throw new RejectedException(badWeight);
        var q = (quota ?? new QuotaPatch()).ApplyTo(tenantOptions.Value.DefaultQuota);
        var errors = q.Validate();
        if (errors.Count > 0) throw new RejectedException(Rejection.Invalid(errors));
        var grain = GrainFactory.GetGrain<ITenantGrain>(tenant);
        if (await grain.Create(isAdmin, q, weight) is null) throw new RejectedException(Rejection.Conflict("tenant", $"'{tenant}' already exists"));
        return await grain.IssueKey(revokeOthers: false);
    }

    public async Task<TenantInfo[]> ListTenants(string apiKey)
    {
        await Admin(apiKey);
        var names = (await GrainFactory.GetGrain<ITenantDirectoryGrain>(0).Weights()).Keys.Order(StringComparer.Ordinal).ToList();
        var infos = await Task.WhenAll(names.Select(n => GrainFactory.GetGrain<ITenantGrain>(n).GetInfo()));
        return infos.Where(i => i is not null).Select(i => i!).ToArray();
    }

    public async Task<TenantInfo> SetQuota(string apiKey, string tenant, QuotaPatch patch)
    {
        await Admin(apiKey);
        if (patch is null) throw new RejectedException(Rejection.Invalid("quota", "a patch is required"));
        return await (await Existing(tenant)).SetQuota(patch);
    }

    public async Task<TenantInfo> SetWeight(string apiKey, string tenant, double weight)
    {
        await Admin(apiKey);
        if (TenantRules.CheckWeight(weight) is { } badWeight) throw new RejectedException(badWeight);
        return await (await Existing(tenant)).SetWeight(weight);
    }

    public async Task<IssuedKey> RotateKey(string apiKey, string tenant, bool keepOld = false)
    {
        await Admin(apiKey);
        var issued = await (await Existing(tenant)).IssueKey(revokeOthers: !keepOld);
        if (!keepOld) verifiedKeys.EvictTenant(tenant);
        return issued;
    }

    public async Task<int> Revoke(string apiKey, string tenant, string? keyId = null)
    {
        await Admin(apiKey);
        if (keyId is not null && !TenantRules.IsValidKeyId(keyId)) throw new RejectedException(Rejection.Invalid("keyId", "16 lowercase hex characters"));
        var revoked = await (await Existing(tenant)).Revoke(keyId);
        verifiedKeys.EvictTenant(tenant); // other silos: within Tenants:KeyCacheSeconds
        return revoked;
    }

    async Task<ITenantGrain> Existing(string tenant)
    {
        // A name that no tenant can have is refused before it becomes a grain key (and without echoing 10 KB back).
        if (!IsValidId(tenant)) throw InvalidTenant();
        var grain = GrainFactory.GetGrain<ITenantGrain>(tenant);
        if (await grain.GetInfo() is null) throw UnknownTenant(tenant);
        return grain;
    }

    static RejectedException InvalidTenant() => new(Rejection.Invalid("tenant", TenantRules.IdRule));
    static RejectedException UnknownTenant(string tenant) => new(Rejection.NotFound("tenant", $"'{tenant}' does not exist"));

    /// <summary>
    /// Only the caller's own namespace of job ids is ever looked at (<see cref="JobKey"/>), so another tenant's job
    /// cannot even be addressed; the tenant check stays as a second line.
    /// </summary>
    async Task<JobStatus?> OwnStatus(Principal principal, string? jobId)
    {
        if (!IsValidId(jobId)) return null;
        var status = await GrainFactory.GetGrain<IJobCoordinatorGrain>(JobKey.Of(principal.Tenant, jobId)).GetStatus();
        return status is not null && status.Tenant == principal.Tenant ? status : null;
    }

    static bool IsValidId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id) => TenantRules.IsValidId(id);
}
