using Grains.Interfaces;
using Grains.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Silo;

/// <summary>Section "Metrics": the Prometheus scrape endpoint on the silo's HTTP port.</summary>
public sealed class SiloMetricsOptions : IValidatedOptions
{
    public const string Section = "Metrics";

    /// <summary>Serve metrics at <see cref="Path"/> (default on: the endpoint exposes counts, no job ids or keys).</summary>
    public bool Enabled { get; set; } = true;
    public string Path { get; set; } = "/metrics";
    /// <summary>Also export Orleans' own meter ("Microsoft.Orleans": messaging, activations, grain calls).</summary>
    public bool Orleans { get; set; } = true;
    /// <summary>Also export .NET runtime metrics (GC, thread pool, JIT).</summary>
    public bool Runtime { get; set; } = true;
    /// <summary>
    /// Label series with tenant names (read by Grains' GenerationMetrics). Off by default: the endpoint needs no key,
    /// so it would list every tenant to anyone who can reach the port.
    /// </summary>
    public bool TenantLabels { get; set; }

    public IEnumerable<string> Problems()
    {
        if (Enabled && (string.IsNullOrWhiteSpace(Path) || !Path.StartsWith('/')))
            yield return $"{Section}:Path must start with '/' (got '{Path}').";
    }

    public static SiloMetricsOptions From(IConfiguration configuration) =>
        ValidatedOptions.Read<SiloMetricsOptions>(configuration.GetSection(Section));
}

/// <summary>OpenTelemetry metrics of the silo, exported in Prometheus' text format (see docs/METRICS.md).</summary>
public static class SiloMetrics
{
    public static IServiceCollection AddSiloMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        var options = SiloMetricsOptions.From(configuration);
        if (!options.Enabled) return services;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("scm-silo", serviceInstanceId: configuration["Cluster:SiloName"]))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(GenerationMetrics.MeterName);
                if (options.Orleans) metrics.AddMeter("Microsoft.Orleans");
                if (options.Runtime) metrics.AddRuntimeInstrumentation();
                // No response cache: a scrape right after an event must see it (Prometheus scrapes every 15 s or so anyway).
                metrics.AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0);
            });
        return services;
    }

    /// <summary>Maps the scrape endpoint (when enabled) and the dashboard (when enabled, behind its credential check).</summary>
    public static WebApplication MapSiloObservability(this WebApplication app)
    {
        var options = SiloMetricsOptions.From(app.Configuration);
        if (options.Enabled) app.MapPrometheusScrapingEndpoint(options.Path);
        app.MapSiloDashboard();
        return app;
    }
}
