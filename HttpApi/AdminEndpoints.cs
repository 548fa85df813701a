using Grains.Interfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace HttpApi;

/// <summary>
/// /v1/usage (any key: the caller's own tenant) and /v1/admin/... (admin keys): tenants, quotas, weights, keys and
/// the cluster's silos, devices, leases and queues. Every handler goes through the same API grain calls as the
/// Orleans client did, so the admin check, argument validation and audit logging stay in one place; a tenant key
/// gets 403 (authProblem NotAdmin). Bodies are read strictly (<see cref="JsonBody"/>): an unknown property is a 400
/// naming it.
/// </summary>
public static class AdminEndpoints
{
    public static string TenantPath(string tenant) => "/v1/admin/tenants/" + Uri.EscapeDataString(tenant);

    public static RouteGroupBuilder MapAdmin(this RouteGroupBuilder v1)
    {
        v1.MapGet("/usage", async (HttpContext http, ClusterApiCaller api) => TypedResults.Ok(await api.Usage(http)))
            .WithName("GetUsage").WithSummary("Usage and quota of the caller's tenant");

        var admin = v1.MapGroup("/admin");
        var tenants = admin.MapGroup("/tenants");
        tenants.MapGet("", async (HttpContext http, ClusterApiCaller api) => TypedResults.Ok(new TenantList(await api.ListTenants(http))))
            .WithName("ListTenants").WithSummary("Every tenant: weight, quota, usage, active key ids");
        tenants.MapPost("", CreateTenant).WithName("CreateTenant").WithSummary("Create a tenant and issue its first key (shown once)").Produces<IssuedKey>(StatusCodes.Status201Created)
            .Accepts<CreateTenantRequest>("application/json").ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        tenants.MapGet("/{tenant}", async (HttpContext http, ClusterApiCaller api, string tenant) => TypedResults.Ok(await api.Usage(http, tenant)))
            .WithName("GetTenant").WithSummary("A tenant's usage and quota").ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapPatch("/{tenant}/quota", SetQuota).WithName("SetQuota").WithSummary("Change the quotas given; the others keep their value").Produces<TenantInfo>()
            .Accepts<QuotaPatch>("application/json").ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapPut("/{tenant}/weight", SetWeight).WithName("SetWeight").WithSummary("Set the fair-share weight").Produces<TenantInfo>()
            .Accepts<WeightRequest>("application/json").ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapPost("/{tenant}/keys", IssueKey).WithName("IssueKey")
            .WithSummary("Issue a new key (shown once); revokes the tenant's other keys unless keepOld")
            .Accepts<IssueKeyRequest>("application/json").Produces<IssuedKey>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapDelete("/{tenant}/keys", async (HttpContext http, ClusterApiCaller api, string tenant) =>
                TypedResults.Ok(new RevokeResult(await api.Revoke(http, tenant, null))))
            .WithName("RevokeKeys").WithSummary("Revoke every key of the tenant").ProducesProblem(StatusCodes.Status404NotFound);
        tenants.MapDelete("/{tenant}/keys/{keyId}", async (HttpContext http, ClusterApiCaller api, string tenant, string keyId) =>
                TypedResults.Ok(new RevokeResult(await api.Revoke(http, tenant, keyId))))
            .WithName("RevokeKey").WithSummary("Revoke one key (idempotent: 0 when it was revoked already)").ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapGet("/cluster", Cluster).WithName("GetCluster").WithSummary("Silos, devices (workers) with their current lease, queue depth per tenant");
        return admin;
    }

    static async Task<IResult> CreateTenant(HttpContext http, ClusterApiCaller api)
    {
        await api.WhoAmI(http); // an anonymous caller learns nothing about the body's validation
        var (body, problem) = await JsonBody.ReadAsync<CreateTenantRequest>(http.Request, api.Options.MaxRequestBodyBytes, http.RequestAborted);
        if (problem is not null) return problem;
        if (string.IsNullOrEmpty(body!.Tenant)) return Problems.Invalid("tenant", "required");
        var key = await api.CreateTenant(http, body.Tenant, body.IsAdmin, body.Quota, body.Weight ?? 1);
        return TypedResults.Created(TenantPath(key.Tenant), key);
    }

    static async Task<IResult> SetQuota(HttpContext http, ClusterApiCaller api, string tenant)
    {
        await api.WhoAmI(http);
        var (patch, problem) = await JsonBody.ReadAsync<QuotaPatch>(http.Request, api.Options.MaxRequestBodyBytes, http.RequestAborted);
        if (problem is not null) return problem;
        var invalid = patch!.ApplyTo(new TenantQuota()).Validate();
        if (invalid.Count > 0) return Problems.Invalid(invalid);
        return TypedResults.Ok(await api.SetQuota(http, tenant, patch));
    }

    static async Task<IResult> SetWeight(HttpContext http, ClusterApiCaller api, string tenant)
    {
        await api.WhoAmI(http);
        var (body, problem) = await JsonBody.ReadAsync<WeightRequest>(http.Request, api.Options.MaxRequestBodyBytes, http.RequestAborted);
        if (problem is not null) return problem;
        if (body!.Weight is not { } weight) return Problems.Invalid("weight", "required");
        return TypedResults.Ok(await api.SetWeight(http, tenant, weight));
    }

    static async Task<IResult> IssueKey(HttpContext http, ClusterApiCaller api, string tenant)
    {
        await api.WhoAmI(http);
        var (body, problem) = await JsonBody.ReadOptionalAsync<IssueKeyRequest>(http.Request, api.Options.MaxRequestBodyBytes, http.RequestAborted);
        if (problem is not null) return problem;
        var key = await api.RotateKey(http, tenant, body!.KeepOld);
        return TypedResults.Created(TenantPath(key.Tenant), key);
    }

    static async Task<Ok<ClusterResource>> Cluster(HttpContext http, ClusterApiCaller api)
    {
        var principal = await api.WhoAmI(http);
        if (!principal.IsAdmin) throw new ApiAuthException(AuthProblem.NotAdmin, "only an admin may read the cluster's silos, devices and queues");
        var snapshot = await api.Snapshot(http);
        return TypedResults.Ok(new ClusterResource(await api.Silos(http), snapshot));
    }
}

public sealed record CreateTenantRequest
{
    public string Tenant { get; init; } = "";
    public bool IsAdmin { get; init; }
    public double? Weight { get; init; }
    public QuotaPatch? Quota { get; init; }
}

public sealed record WeightRequest
{
    public double? Weight { get; init; }
}

public sealed record IssueKeyRequest
{
    /// <summary>Keep the tenant's other keys valid (a second key); false rotates: the others are revoked.</summary>
    public bool KeepOld { get; init; }
}

public sealed record TenantList(TenantInfo[] Tenants);

public sealed record RevokeResult(int Revoked);

/// <summary>One silo of the membership table.</summary>
public sealed record SiloEntry(string Name, string Address, string Status);

/// <summary>What `scmctl cluster` shows.</summary>
public sealed record ClusterResource(SiloEntry[] Silos, SchedulerSnapshot Scheduler);
