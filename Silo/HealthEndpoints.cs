using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Silo;

/// <summary>
/// Liveness (/healthz: the process answers) and readiness (/readyz: this silo is an Active member of the cluster,
/// so it can take work). Kubernetes restarts on the first and routes on the second.
/// </summary>
public static class HealthEndpoints
{
    const string ReadyTag = "ready";

    public static IServiceCollection AddSiloHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<SiloActiveCheck>("silo-active", tags: [ReadyTag]);
        return services;
    }

    public static WebApplication MapSiloHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        return app;
    }

    sealed class SiloActiveCheck(ILocalSiloDetails localSilo, IClusterMembershipService membership) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(localSilo.SiloAddress);
            return Task.FromResult(status == SiloStatus.Active
                ? HealthCheckResult.Healthy($"silo {localSilo.Name} is active")
                : HealthCheckResult.Unhealthy($"silo {localSilo.Name} is {status}"));
        }
    }
}
