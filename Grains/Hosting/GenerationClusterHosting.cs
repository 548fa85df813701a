using System.Net;
using Grains.Interfaces;
using Grains.Models;
using Grains.Options;
using Grains.Placement;
using Grains.Telemetry;
using Grains.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace Grains.Hosting;

public static class GenerationClusterHosting
{
    /// <summary>Joins the cluster as configured in section "Cluster" (Localhost or Redis membership).</summary>
    public static ISiloBuilder UseConfiguredClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var host = Bind<ClusterHostOptions>(configuration, ClusterHostOptions.Section);
        host.Validate();
        silo.Configure<SiloOptions>(o => o.SiloName = host.SiloName ?? $"{Environment.MachineName}-{host.SiloPort}");
        // Failure detection knobs (ProbeTimeout, NumMissedProbesLimit, NumVotesForDeathDeclaration...) pass through.
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection("Cluster:Membership"));
        if (host.Clustering == "Redis")
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(host.RedisConnectionString!));
            silo.Configure<ClusterOptions>(o => { o.ClusterId = host.ClusterId; o.ServiceId = host.ServiceId; });
            var advertised = host.AdvertisedIp is { } ip ? IPAddress.Parse(ip) : IPAddress.Loopback;
            silo.ConfigureEndpoints(advertised, host.SiloPort, host.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.UseLocalhostClustering(host.SiloPort, host.GatewayPort, new IPEndPoint(IPAddress.Loopback, host.PrimarySiloPort),
                host.ServiceId, host.ClusterId);
        }
        // After TLS (registered first, so it decrypts first): the guard reads the client's preamble in clear.
        return silo.UseConfiguredTls(host.Tls).RefuseHostedClientIdsAtGateway();
    }

    /// <summary>
    /// Registers the generation cluster's grains' services: options (validated now, with every error at once),
    /// grain storage and reminders (Memory or Redis), models, devices, worker placement and start-up.
    /// The host must also register an <see cref="BlobStorage.IBlobStore"/>.
    /// </summary>
    public static ISiloBuilder AddGenerationCluster(this ISiloBuilder silo, IConfiguration configuration)
    {
        var host = Bind<ClusterHostOptions>(configuration, ClusterHostOptions.Section);
        var scheduler = Bind<SchedulerOptions>(configuration, SchedulerOptions.Section);
        var devices = Bind<DeviceOptions>(configuration, DeviceOptions.Section);
        var models = Bind<ModelRegistryOptions>(configuration, ModelRegistryOptions.Section);
        var limits = configuration.GetSection("Limits").Get<JobLimits>() ?? new JobLimits();
        var tenants = Bind<TenantOptions>(configuration, TenantOptions.Section);
        var tenantErrors = tenants.DefaultQuota.Validate().Select(e => $"{TenantOptions.Section}:DefaultQuota:{e}").ToList();
        if (tenants.KeyCacheSeconds is < 0 or > 300) tenantErrors.Add($"{TenantOptions.Section}:KeyCacheSeconds must be in [0, 300] (got {tenants.KeyCacheSeconds}).");
        try { ApiKeys.ParseHashLine(tenants.AdminKeyHash); }
        catch (FormatException e) { tenantErrors.Add(e.Message); }
        if (tenantErrors.Count > 0) throw new ConfigurationException(tenantErrors);
        host.Validate();
        scheduler.Validate();
        devices.Validate();

        if (host.Storage == "Redis")
        {
            var redis = ConfigurationOptions.Parse(host.RedisConnectionString!);
            // Orleans' binary serializer (the [Id] fields of our [GenerateSerializer] state), not the default JSON:
            // JSON skipped default values (JobKind.ImageSet = 0) and property initialisers filled them back in
            // wrongly on reload, turning an image set into a video after a failover.
            silo.AddRedisGrainStorage("jobs", builder => builder.Configure<Serializer>((o, serializer) =>
            {
                o.ConfigurationOptions = redis;
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
            silo.UseRedisReminderService(o => o.ConfigurationOptions = redis);
        }
        else
        {
            silo.AddMemoryGrainStorage("jobs");
            silo.UseInMemoryReminderService();
        }

        var services = silo.Services;
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(scheduler));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(devices));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(models));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(limits));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(tenants));
        // Every silo stamps its own calls, whether or not it checks them, so that one configuration mistake on one
        // silo cannot lock the others out; the check refuses unstamped calls to anything but the API grain.
        services.AddSingleton(new Tenants.InternalCallToken(host.InternalCallSecret));
        silo.AddOutgoingGrainCallFilter<Tenants.InternalCallStamp>();
        if (tenants.RestrictClientCalls) silo.AddIncomingGrainCallFilter<Tenants.ClientCallFilter>();
        // Storage outages and unserialisable exceptions leave every grain call as serialisable, retryable errors.
        silo.AddIncomingGrainCallFilter<ExceptionBoundaryFilter>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Tenants.VerifiedKeyCache>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ModelCache>();
        services.AddGenerationMetrics(configuration.GetValue<bool>("Metrics:TenantLabels"));
        services.AddSingleton<DeviceInventory>();
        services.AddSingleton<SimulatedDevices>();
        services.TryAddSingleton<IFaultInjector, NoFaults>();
        services.AddPlacementDirector<DevicePlacementStrategy, DevicePlacementDirector>();
        services.AddHostedService<WorkerStarter>();
        if (devices.CpuThreads > 0) TorchSharp.torch.set_num_threads(devices.CpuThreads);
        return silo;
    }

    /// <summary>Every configuration problem of the cluster's sections at once (empty when valid).</summary>
    public static IReadOnlyList<string> ValidateConfiguration(IConfiguration configuration)
    {
        var errors = new List<string>();
        void Check(Action validate)
        {
            try { validate(); }
            catch (ConfigurationException e) { errors.AddRange(e.Errors); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { errors.Add(e.Message); }
        }
        Check(() => Bind<ClusterHostOptions>(configuration, ClusterHostOptions.Section).Validate());
        Check(() => Bind<SchedulerOptions>(configuration, SchedulerOptions.Section).Validate());
        Check(() => Bind<DeviceOptions>(configuration, DeviceOptions.Section).Validate());
        return errors;
    }

    static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var options = new T();
        configuration.GetSection(section).Bind(options);
        return options;
    }
}
