using System.Security.Cryptography;
using System.Text.Json;
using Grains.Hosting;
using Grains.Interfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grains.Tenants;

[GenerateSerializer]
public sealed class TenantRecord
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public bool IsAdmin { get; set; }
    [Id(2)] public double Weight { get; set; } = 1;
    [Id(3)] public TenantQuota Quota { get; set; } = new();
    [Id(4)] public List<string> KeyIds { get; set; } = new();
    /// <summary>Admitted jobs that are not terminal yet: what they reserved and what they have used so far.</summary>
    [Id(5)] public Dictionary<string, JobReservation> Active { get; set; } = new();
    /// <summary>Per-minute usage over the last 24 h.</summary>
    [Id(6)] public List<UsageBucket> Buckets { get; set; } = new();
    [Id(7)] public long JobsSubmitted { get; set; }
    [Id(8)] public long FramesRendered { get; set; }
    [Id(9)] public double DeviceSecondsTotal { get; set; }
    [Id(10)] public long JobsRejected { get; set; }
    [Id(11)] public DateTime CreatedAt { get; set; }
}

[GenerateSerializer]
public sealed class JobReservation
{
    [Id(0)] public int Frames { get; set; }
    [Id(1)] public int FramesDone { get; set; }
    [Id(2)] public double DeviceSeconds { get; set; }
    /// <summary>The admitted spec's fingerprint (<see cref="TenantGrain.Fingerprint"/>): only a retry of this very spec may take the reservation over.</summary>
    [Id(3)] public string? SpecFingerprint { get; set; }
    /// <summary>When it was admitted or last claimed by a retry (MinValue in records stored before it existed).</summary>
    [Id(4)] public DateTime ReservedAt { get; set; }
}

[GenerateSerializer]
public sealed class UsageBucket
{
    [Id(0)] public DateTime Minute { get; set; }
    [Id(1)] public double DeviceSeconds { get; set; }
    [Id(2)] public int Frames { get; set; }
}

/// <summary>
/// A tenant: quota, weight, keys and usage. Orleans runs one call at a time here, so the check-and-reserve of
/// <see cref="Admit"/> is atomic without locks. Reservations are released when the coordinator reports the job
/// terminal; progress reports are cumulative per job, so a repeated report adds nothing.
/// </summary>
public sealed class TenantGrain(
    [PersistentState("tenant", "jobs")] IPersistentState<TenantRecord> tenant,
    IOptions<TenantOptions> options, TimeProvider time,
    ILogger<TenantGrain> logger) : Grain, ITenantGrain
{
    /// <summary>Most coordinators one admission asks about possibly leaked reservations (each is one grain call).</summary>
    const int MaxLeakChecks = 16;
    /// <summary>Ids of reserved jobs seen to exist in this activation: not leaks (see <see cref="ReleaseLeakedReservationsAsync"/>).</summary>
    readonly HashSet<string> knownJobs = [];

    /// <summary>Reservations stored before they carried a time count from this activation, not as infinitely old.</summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var reservation in T.Active.Values.Where(r => r.ReservedAt == default)) reservation.ReservedAt = now;
        return Task.CompletedTask;
    }
    static readonly TimeSpan Window = TimeSpan.FromHours(24);
    TenantRecord T => tenant.State;
    string Id => this.GetPrimaryKeyString();

    public async Task<TenantInfo?> Create(bool isAdmin, TenantQuota quota, double weight)
    {
        if (T.Exists) return null;
        T.Exists = true;
        T.IsAdmin = isAdmin;
        T.Quota = quota;
        T.Weight = weight;
        T.CreatedAt = DateTime.UtcNow;
        await tenant.WriteOwnStateAsync();
        await GrainFactory.GetGrain<ITenantDirectoryGrain>(0).Upsert(Id, weight);
        await GrainFactory.GetGrain<ISchedulerGrain>(0).SetWeight(Id, weight);
        logger.LogInformation("Tenant {Tenant} created (admin: {Admin})", Id, isAdmin);
        return Info();
    }

    public Task<TenantInfo?> GetInfo() => Task.FromResult(T.Exists ? Info() : null);

    public async Task<Rejection?> Admit(string jobId, JobSpec spec)
    {
        // Invalid, not NotFound: the caller's own key named this tenant, so the submit as a whole is refused (400).
        if (!T.Exists) return Reject(Rejection.Invalid("tenant", $"'{Id}' does not exist"));
        if (T.Active.ContainsKey(jobId)) return Reject(Rejection.Conflict("jobId", $"'{jobId}' already exists"));
        var quotas = Admission.QuotaRefusals(T.Quota, Usage(), spec);
        // Only a reservation can be a leak, and only a refusal that releasing one could lift is worth the grain calls.
        if (quotas.Count > 0 && quotas.All(q => Admission.ReservationQuotas.Contains(q.Field)) && await ReleaseLeakedReservationsAsync() > 0)
            quotas = Admission.QuotaRefusals(T.Quota, Usage(), spec);
        if (quotas.Count > 0) return Reject(Rejection.QuotaExceeded(quotas));

        T.Active[jobId] = new JobReservation { Frames = spec.Frames, SpecFingerprint = Fingerprint(spec), ReservedAt = time.GetUtcNow().UtcDateTime };
        T.JobsSubmitted++;
        await tenant.WriteOwnStateAsync();
        return null;
    }

    /// <summary>
    /// Releases reservations that no job will ever release: admitted, no progress, older than
    /// <see cref="TenantOptions.LeakedReservationSeconds"/>, and neither a stored job nor a submit under way for the id
    /// (the submit's silo died between reserving and the coordinator storing the job, and the client never retried).
    /// Such a reservation would hold a running-job slot and its frames for good. A job that exists releases its own
    /// when it ends, so an id once seen to exist is not asked about again in this activation. The oldest suspects are
    /// asked first, all at once.
    /// </summary>
    async Task<int> ReleaseLeakedReservationsAsync()
    {
        var cutoff = time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(options.Value.LeakedReservationSeconds);
        var suspects = T.Active.Where(a => a.Value.FramesDone == 0 && a.Value.DeviceSeconds == 0 && a.Value.ReservedAt <= cutoff && !knownJobs.Contains(a.Key))
            .OrderBy(a => a.Value.ReservedAt).Select(a => a.Key).Take(MaxLeakChecks).ToList();
        var answers = await Task.WhenAll(suspects.Select(async jobId =>
        {
            try { return (jobId, Exists: (bool?)await GrainFactory.GetGrain<IJobCoordinatorGrain>(JobKey.Of(Id, jobId)).ExistsOrIsSubmitting()); }
            catch (Exception e)
            {
                logger.LogWarning(e, "Tenant {Tenant}: could not check job {Job} for a leaked reservation; kept", Id, jobId);
                return (jobId, Exists: (bool?)null);
            }
        }));
        int released = 0;
        foreach (var (jobId, exists) in answers)
        {
            if (exists is true) knownJobs.Add(jobId);
            // Still reserved and still unclaimed: the calls above interleaved with nothing (this grain is not reentrant).
            if (exists is not false || !T.Active.Remove(jobId)) continue;
            released++;
            logger.LogWarning("Tenant {Tenant}: released the reservation of job {Job}: no job was stored for it", Id, jobId);
        }
        if (released > 0) await tenant.WriteOwnStateAsync();
        return released;
    }

    /// <remarks>A reservation stored before fingerprints existed is matched by its frame count alone.</remarks>
    public async Task<bool> ClaimReservation(string jobId, JobSpec spec)
    {
        if (!T.Exists || !T.Active.TryGetValue(jobId, out var reservation) || reservation.Frames != spec.Frames
            || reservation.SpecFingerprint is not null && reservation.SpecFingerprint != Fingerprint(spec)) return false;
        reservation.ReservedAt = time.GetUtcNow().UtcDateTime; // a takeover in flight is not a leak
        await tenant.WriteOwnStateAsync();
        return true;
    }

    /// <summary>A spec's identity for <see cref="ClaimReservation"/>: SHA-256 of its JSON form.</summary>
    internal static string Fingerprint(JobSpec spec) => Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(spec)));

    public async Task JobProgress(string jobId, int framesDone, double deviceSeconds)
    {
        if (!T.Exists || !T.Active.TryGetValue(jobId, out var job)) return;
        if (Account(job, framesDone, deviceSeconds)) await tenant.WriteOwnStateAsync();
    }

    public async Task JobEnded(string jobId, int framesDone, double deviceSeconds)
    {
        if (!T.Exists || !T.Active.TryGetValue(jobId, out var job)) return;
        Account(job, framesDone, deviceSeconds);
        T.Active.Remove(jobId);
        await tenant.WriteOwnStateAsync();
    }

    public async Task<TenantInfo> SetQuota(QuotaPatch patch)
    {
        EnsureExists();
        var quota = (patch ?? throw new RejectedException(Rejection.Invalid("quota", "a patch is required"))).ApplyTo(T.Quota);
        var errors = quota.Validate();
        if (errors.Count > 0) throw new RejectedException(Rejection.Invalid(errors));
        T.Quota = quota;
        await tenant.WriteOwnStateAsync();
        return Info();
    }

    public async Task<TenantInfo> SetWeight(double weight)
    {
        EnsureExists();
        if (TenantRules.CheckWeight(weight) is { } rejection) throw new RejectedException(rejection);
        T.Weight = weight;
        await tenant.WriteOwnStateAsync();
        await GrainFactory.GetGrain<ITenantDirectoryGrain>(0).Upsert(Id, weight);
        await GrainFactory.GetGrain<ISchedulerGrain>(0).SetWeight(Id, weight);
        return Info();
    }

    public async Task<IssuedKey> IssueKey(bool revokeOthers)
    {
        EnsureExists();
        var (keyId, apiKey, salt, hash) = ApiKeys.Generate();
        await GrainFactory.GetGrain<IApiKeyGrain>(keyId).Register(Id, T.IsAdmin, salt, hash);
        if (revokeOthers)
        {
            foreach (var old in T.KeyIds) await GrainFactory.GetGrain<IApiKeyGrain>(old).Revoke();
            T.KeyIds.Clear();
        }
        T.KeyIds.Add(keyId);
        await tenant.WriteOwnStateAsync();
        logger.LogInformation("Tenant {Tenant}: key {KeyId} issued{Rotation}", Id, keyId, revokeOthers ? ", older keys revoked" : "");
        return new IssuedKey { Tenant = Id, KeyId = keyId, ApiKey = apiKey };
    }

    public async Task<int> Revoke(string? keyId)
    {
        EnsureExists();
        var targets = keyId is null ? T.KeyIds.ToList() : T.KeyIds.Where(k => k == keyId).ToList();
        // Invalid (400) rather than NotFound: the tenant exists; the key id given with it is the wrong argument.
        if (keyId is not null && targets.Count == 0) throw new RejectedException(Rejection.Invalid("keyId", $"tenant '{Id}' has no active key '{keyId}'"));
        int revoked = 0;
        foreach (var k in targets)
        {
            if (await GrainFactory.GetGrain<IApiKeyGrain>(k).Revoke()) revoked++;
            T.KeyIds.Remove(k);
        }
        await tenant.WriteOwnStateAsync();
        return revoked;
    }

    public async Task AdoptKey(string keyId)
    {
        EnsureExists();
        if (T.KeyIds.Contains(keyId)) return;
        T.KeyIds.Add(keyId);
        await tenant.WriteOwnStateAsync();
    }

    void EnsureExists()
    {
        if (!T.Exists) throw new RejectedException(Rejection.NotFound("tenant", $"'{Id}' does not exist"));
    }

    Rejection Reject(Rejection rejection)
    {
        T.JobsRejected++; // soft counter: persisted with the next write
        return rejection;
    }

    /// <summary>Adds the growth of a job's cumulative progress to the rolling usage; false when nothing changed.</summary>
    bool Account(JobReservation job, int framesDone, double deviceSeconds)
    {
        int frames = Math.Max(0, Math.Min(framesDone, job.Frames) - job.FramesDone);
        double seconds = Math.Max(0, deviceSeconds - job.DeviceSeconds);
        if (frames == 0 && seconds == 0) return false;
        job.FramesDone += frames;
        job.DeviceSeconds += seconds;
        T.FramesRendered += frames;
        T.DeviceSecondsTotal += seconds;
        var now = DateTime.UtcNow;
        var minute = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
        var bucket = T.Buckets.Count > 0 && T.Buckets[^1].Minute == minute ? T.Buckets[^1] : null;
        if (bucket is null) T.Buckets.Add(bucket = new UsageBucket { Minute = minute });
        bucket.DeviceSeconds += seconds;
        bucket.Frames += frames;
        T.Buckets.RemoveAll(b => b.Minute < now - Window - TimeSpan.FromMinutes(1));
        return true;
    }

    TenantUsage Usage()
    {
        var since = DateTime.UtcNow - Window;
        var recent = T.Buckets.Where(b => b.Minute >= since).ToList();
        return new TenantUsage
        {
            RunningJobs = T.Active.Count,
            QueuedFrames = T.Active.Values.Sum(j => j.Frames - j.FramesDone),
            DeviceSeconds24h = recent.Sum(b => b.DeviceSeconds),
            Frames24h = recent.Sum(b => b.Frames),
            JobsSubmitted = T.JobsSubmitted, FramesRendered = T.FramesRendered, DeviceSecondsTotal = T.DeviceSecondsTotal,
            JobsRejected = T.JobsRejected,
        };
    }

    TenantInfo Info() => new()
    {
        Id = Id, IsAdmin = T.IsAdmin, Weight = T.Weight, Quota = T.Quota, Usage = Usage(), ActiveKeyIds = T.KeyIds.ToArray(),
    };
}
