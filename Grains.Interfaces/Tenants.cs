using Orleans.Concurrency;

namespace Grains.Interfaces;

/// <summary>
/// Per-tenant quotas. Defaults come from configuration section "Tenants" (<see cref="TenantOptions"/>); an admin
/// may override them per tenant. 0 means unlimited for the two rolling 24 h limits.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TenantQuota
{
    /// <summary>Jobs admitted and not yet terminal (queued or running).</summary>
    [Id(0)] public int MaxRunningJobs { get; init; } = 4;
    /// <summary>Frames admitted and not yet rendered, over all of the tenant's jobs.</summary>
    [Id(1)] public int MaxQueuedFrames { get; init; } = 5_000;
    [Id(2)] public int MaxFramesPerJob { get; init; } = 2_000;
    [Id(3)] public int MaxOutputSize { get; init; } = 512;
    /// <summary>Device-seconds measured by workers in the last 24 h; a submit is refused once it is reached.</summary>
    [Id(4)] public double DeviceSecondsPerDay { get; init; } = 3_600;
    /// <summary>Frames rendered or reserved in the last 24 h (0 = unlimited).</summary>
    [Id(5)] public int FramesPerDay { get; init; }

    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (MaxRunningJobs < 0) errors.Add(FieldError.Of("maxRunningJobs", $"must be >= 0, got {MaxRunningJobs}"));
        if (MaxQueuedFrames < 0) errors.Add(FieldError.Of("maxQueuedFrames", $"must be >= 0, got {MaxQueuedFrames}"));
        if (MaxFramesPerJob < 0) errors.Add(FieldError.Of("maxFramesPerJob", $"must be >= 0, got {MaxFramesPerJob}"));
        if (MaxOutputSize < 0) errors.Add(FieldError.Of("maxOutputSize", $"must be >= 0, got {MaxOutputSize}"));
        if (!double.IsFinite(DeviceSecondsPerDay) || DeviceSecondsPerDay < 0) errors.Add(FieldError.Of("deviceSecondsPerDay", $"must be >= 0, got {DeviceSecondsPerDay}"));
        if (FramesPerDay < 0) errors.Add(FieldError.Of("framesPerDay", $"must be >= 0, got {FramesPerDay}"));
        return errors;
    }
}

/// <summary>Fair-share weights and tenant ids as the API accepts them.</summary>
public static class TenantRules
{
    /// <summary>
    /// Bounds of a tenant's weight. The scheduler orders tenants by usage / weight: a subnormal weight turns that into
    /// infinity for every such tenant (no order among them), and 1e308 into 0; a factor of 10^6 between tenants is plenty.
    /// </summary>
    public const double MinWeight = 0.001, MaxWeight = 1000;

    public static Rejection? CheckWeight(double weight) => double.IsFinite(weight) && weight is >= MinWeight and <= MaxWeight
        ? null
        : Rejection.Invalid("weight", string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"must be in [{MinWeight}, {MaxWeight}], got {weight}"));

    /// <summary>Tenant ids, job ids: they become grain keys and blob path segments, so a small safe alphabet.</summary>
    public static bool IsValidId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id) => id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public const string IdRule = "1-64 characters from [A-Za-z0-9-_]";

    /// <summary>Key ids are 16 lowercase hex characters (<see cref="ApiKeys"/>).</summary>
    public static bool IsValidKeyId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? keyId) => keyId is { Length: 16 } && keyId.All(char.IsAsciiHexDigitLower);
}

/// <summary>Silo configuration section "Tenants".</summary>
public sealed class TenantOptions : IValidatedOptions
{
    public const string Section = "Tenants";
    /// <summary>Quota of a tenant created without one.</summary>
    public TenantQuota DefaultQuota { get; set; } = new();
    /// <summary>
    /// Bootstrap admin key, stored only as a hash: "keyId:saltBase64:hashBase64" as printed by
    /// `scmctl tenant admin-key`. Applies while no key record with that id exists in grain storage.
    /// </summary>
    public string? AdminKeyHash { get; set; }
    /// <summary>Refuse external clients' calls to any grain but the public API grain (tests of internals turn it off).</summary>
    public bool RestrictClientCalls { get; set; } = true;
    /// <summary>
    /// How long a silo's API grains trust a key they verified (0 = verify every call). Calls with a recently used key
    /// keep working while the key's grain is unreachable; a revocation takes effect on every silo within this time.
    /// </summary>
    public int KeyCacheSeconds { get; set; } = 10;
    /// <summary>
    /// A reservation with no progress and no stored job after this long is a leak (its submit died between reserving and
    /// storing the job) and is released when a quota it holds would refuse another job. Longer than any submit takes.
    /// </summary>
    public int LeakedReservationSeconds { get; set; } = 300;

    public IEnumerable<string> Problems()
    {
        foreach (var problem in DefaultQuota.Validate()) yield return $"{Section}:DefaultQuota:{problem.Message}";
        if (KeyCacheSeconds is < 0 or > 300) yield return $"{Section}:KeyCacheSeconds must be in [0, 300], got {KeyCacheSeconds}";
        if (LeakedReservationSeconds is < 1 or > 86_400) yield return $"{Section}:LeakedReservationSeconds must be in [1, 86400], got {LeakedReservationSeconds}";
        string? keyProblem = null;
        try { ApiKeys.ParseHashLine(AdminKeyHash); }
        catch (FormatException e) { keyProblem = e.Message; }
        if (keyProblem is not null) yield return keyProblem.StartsWith(Section, StringComparison.Ordinal) ? keyProblem : $"{Section}:AdminKeyHash: {keyProblem}";
    }
}

/// <summary>What a tenant has used: current reservations and rolling 24 h measurements.</summary>
[GenerateSerializer, Immutable]
public sealed record TenantUsage
{
    [Id(0)] public int RunningJobs { get; init; }
    [Id(1)] public int QueuedFrames { get; init; }
    [Id(2)] public double DeviceSeconds24h { get; init; }
    [Id(3)] public int Frames24h { get; init; }
    [Id(4)] public long JobsSubmitted { get; init; }
    [Id(5)] public long FramesRendered { get; init; }
    [Id(6)] public double DeviceSecondsTotal { get; init; }
    [Id(7)] public long JobsRejected { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record TenantInfo
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public bool IsAdmin { get; init; }
    [Id(2)] public double Weight { get; init; } = 1;
    [Id(3)] public required TenantQuota Quota { get; init; }
    [Id(4)] public required TenantUsage Usage { get; init; }
    /// <summary>Ids of the tenant's keys that are still valid.</summary>
    [Id(5)] public string[] ActiveKeyIds { get; init; } = [];
}

/// <summary>An authenticated caller.</summary>
[GenerateSerializer, Immutable]
public sealed record Principal
{
    [Id(0)] public required string Tenant { get; init; }
    [Id(1)] public required string KeyId { get; init; }
    [Id(2)] public bool IsAdmin { get; init; }
}

/// <summary>A newly issued API key: shown once, never stored in plain text.</summary>
[GenerateSerializer, Immutable]
public sealed record IssuedKey
{
    [Id(0)] public required string Tenant { get; init; }
    [Id(1)] public required string KeyId { get; init; }
    /// <summary>The full key, "scm_{keyId}_{secret}".</summary>
    [Id(2)] public required string ApiKey { get; init; }
}

/// <summary>A quota change: null fields keep the current value.</summary>
[GenerateSerializer, Immutable]
public sealed record QuotaPatch
{
    [Id(0)] public int? MaxRunningJobs { get; init; }
    [Id(1)] public int? MaxQueuedFrames { get; init; }
    [Id(2)] public int? MaxFramesPerJob { get; init; }
    [Id(3)] public int? MaxOutputSize { get; init; }
    [Id(4)] public double? DeviceSecondsPerDay { get; init; }
    [Id(5)] public int? FramesPerDay { get; init; }

    public TenantQuota ApplyTo(TenantQuota q) => q with
    {
        MaxRunningJobs = MaxRunningJobs ?? q.MaxRunningJobs,
        MaxQueuedFrames = MaxQueuedFrames ?? q.MaxQueuedFrames,
        MaxFramesPerJob = MaxFramesPerJob ?? q.MaxFramesPerJob,
        MaxOutputSize = MaxOutputSize ?? q.MaxOutputSize,
        DeviceSecondsPerDay = DeviceSecondsPerDay ?? q.DeviceSecondsPerDay,
        FramesPerDay = FramesPerDay ?? q.FramesPerDay,
    };
}

public enum AuthProblem { MissingKey, MalformedKey, UnknownKey, WrongKey, RevokedKey, NotAdmin, UnknownTenant, NotPermitted }

/// <summary>A call was refused: the API key is missing, malformed, unknown, wrong or revoked, or lacks the admin role.</summary>
[GenerateSerializer]
public sealed class ApiAuthException : Exception
{
    [Id(0)] public AuthProblem Problem { get; }
    [Id(1)] public string Detail { get; }

    public ApiAuthException(AuthProblem problem, string detail) : base($"auth: {problem}: {detail}")
    {
        Problem = problem;
        Detail = detail;
    }

    public override string Message => $"auth: {Problem}: {Detail}";
}

/// <summary>
/// The cluster's public API (stateless worker, key 0): every call carries an API key, which is authenticated
/// (key id → key record → salted hash, constant-time compare) and authorised before any internal grain is called.
/// A tenant sees only its own jobs: job ids are per tenant (<see cref="JobKey"/>), so another tenant's job id is just
/// a free id of one's own. Refusals are typed (<see cref="Rejection"/>): <see cref="Submit"/> returns one in its result,
/// every other call throws it as a <see cref="RejectedException"/>; a bad key or missing role is an <see cref="ApiAuthException"/>.
/// </summary>
public interface IClusterApiGrain : IGrainWithIntegerKey
{
    Task<Principal> WhoAmI(string apiKey);
    Task<SubmitResult> Submit(string apiKey, string jobId, JobSpec spec);
    Task<JobStatus?> GetStatus(string apiKey, string jobId);
    Task<bool> Cancel(string apiKey, string jobId);
    /// <summary>
    /// A page of the caller's jobs in submission order: at most <paramref name="limit"/> (1..<see cref="JobPage.MaxLimit"/>)
    /// after the job <paramref name="after"/> (null: from the first). Bounded, so no request fans out over every job.
    /// </summary>
    Task<JobPage> List(string apiKey, string? after, int limit);
    /// <summary>The scheduler's view; a non-admin sees only its own tenant's queue row.</summary>
    Task<SchedulerSnapshot> Snapshot(string apiKey);
    /// <summary>Silos (from Orleans' management grain, which clients cannot call) and <see cref="Snapshot"/>.</summary>
    Task<ClusterView> Cluster(string apiKey);
    /// <summary>Own tenant's usage and quota; an admin may name any tenant.</summary>
    Task<TenantInfo> Usage(string apiKey, string? tenant = null);

    // Admin only.
    Task<IssuedKey> CreateTenant(string apiKey, string tenant, bool isAdmin = false, QuotaPatch? quota = null, double weight = 1);
    Task<TenantInfo[]> ListTenants(string apiKey);
    Task<TenantInfo> SetQuota(string apiKey, string tenant, QuotaPatch patch);
    Task<TenantInfo> SetWeight(string apiKey, string tenant, double weight);
    /// <summary>Issues a new key; unless <paramref name="keepOld"/>, revokes the tenant's other keys.</summary>
    Task<IssuedKey> RotateKey(string apiKey, string tenant, bool keepOld = false);
    /// <summary>Revokes one key (keyId) or every key of the tenant (keyId null).</summary>
    Task<int> Revoke(string apiKey, string tenant, string? keyId = null);
}

/// <summary>
/// One per tenant (key = tenant id), persisted in the "jobs" storage. Single-threaded: admission (check and
/// reserve) is atomic. Internal: called by the API grain and by job coordinators.
/// </summary>
public interface ITenantGrain : IGrainWithStringKey
{
    Task<TenantInfo?> Create(bool isAdmin, TenantQuota quota, double weight);
    Task<TenantInfo?> GetInfo();
    /// <summary>Checks the tenant's quotas and reserves the job's share of them; null when admitted.</summary>
    Task<Rejection?> Admit(string jobId, JobSpec spec);
    /// <summary>
    /// Whether this job id holds a reservation admitted for this very spec, which the caller then takes over: a retry of
    /// the same submit may (its first attempt reserved and then failed); another spec under the same id may not (it was
    /// never checked). A claimed reservation counts as new for <see cref="TenantOptions.LeakedReservationSeconds"/>.
    /// </summary>
    Task<bool> ClaimReservation(string jobId, JobSpec spec);
    /// <summary>
    /// A job is terminal (or its submit failed): accounts its final progress and releases its reservation.
    /// Idempotent: a job that holds no reservation is ignored.
    /// </summary>
    Task JobEnded(string jobId, int framesDone, double deviceSeconds);
    /// <summary>Cumulative progress of a job (frames done, device-seconds); usage grows by the difference. Idempotent.</summary>
    Task JobProgress(string jobId, int framesDone, double deviceSeconds);
    Task<TenantInfo> SetQuota(QuotaPatch patch);
    Task<TenantInfo> SetWeight(double weight);
    Task<IssuedKey> IssueKey(bool revokeOthers);
    Task<int> Revoke(string? keyId);
    /// <summary>Lists an existing key (the bootstrap admin key) among the tenant's keys, so rotation revokes it. Idempotent.</summary>
    Task AdoptKey(string keyId);
}

/// <summary>All tenants (key 0): for listing, and for the scheduler to learn weights when it (re)activates.</summary>
public interface ITenantDirectoryGrain : IGrainWithIntegerKey
{
    Task Upsert(string tenant, double weight);
    [AlwaysInterleave] Task<Dictionary<string, double>> Weights();
}

/// <summary>One per API key (key = key id): the tenant, a per-key salt and the salted hash of the secret.</summary>
public interface IApiKeyGrain : IGrainWithStringKey
{
    Task Register(string tenant, bool isAdmin, byte[] salt, byte[] hash);
    /// <summary>The principal, or an <see cref="ApiAuthException"/> naming the problem.</summary>
    Task<Principal> Verify(string secret);
    Task<bool> Revoke();
}

/// <summary>One page of a tenant's jobs; <see cref="Next"/> is the <c>after</c> of the next page, null on the last.</summary>
[GenerateSerializer, Immutable]
public sealed record JobPage
{
    public const int DefaultLimit = 100, MaxLimit = 1000;

    [Id(0)] public required JobStatus[] Jobs { get; init; }
    [Id(1)] public string? Next { get; init; }
}
