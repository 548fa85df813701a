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
    /// <summary>
    /// Joins the cluster as configured in section "Cluster" (Localhost or Redis membership). The section's values shape
    /// the host as it is built, so a host checks them first (<see cref="ConfigurationProblems"/>).
    /// </summary>
    public static ISiloBuilder UseConfiguredClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var host = ValidatedOptions.Read<ClusterHostOptions>(configuration.GetSection(ClusterHostOptions.Section));
        silo.Configure<SiloOptions>(o => o.SiloName = host.SiloName ?? $"{Environment.MachineName}-{host.SiloPort}");
        // Failure detection knobs (ProbeTimeout, NumMissedProbesLimit, NumVotesForDeathDeclaration...) pass through.
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection("Cluster:Membership"));
        if (host.Clustering == ClusteringMode.Redis)
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
    /// Registers the generation cluster's grains' services: its options sections (each validated when the host starts),
    /// grain storage and reminders (Memory or Redis), models, devices, worker placement and start-up.
    /// The host must also register an <see cref="BlobStorage.IBlobStore"/>.
    /// </summary>
    public static ISiloBuilder AddGenerationCluster(this ISiloBuilder silo, IConfiguration configuration)
    {
        var host = ValidatedOptions.Read<ClusterHostOptions>(configuration.GetSection(ClusterHostOptions.Section));
        var devices = ValidatedOptions.Read<DeviceOptions>(configuration.GetSection(DeviceOptions.Section));
        var tenants = ValidatedOptions.Read<TenantOptions>(configuration.GetSection(TenantOptions.Section));

        if (host.Storage == StateStorage.Redis)
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
            // The same binary serializer as Redis, so that what is stored (and what a write costs) does not depend on
            // the store: the default JSON also serialised members that are deliberately not part of a stored record.
            silo.AddMemoryGrainStorage("jobs", builder => builder.Configure<Serializer>((o, serializer) =>
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
            silo.UseInMemoryReminderService();
        }

        var services = silo.Services;
        services.AddValidatedOptions<ClusterHostOptions>(configuration.GetSection(ClusterHostOptions.Section));
        services.AddValidatedOptions<SchedulerOptions>(configuration.GetSection(SchedulerOptions.Section));
        services.AddValidatedOptions<DeviceOptions>(configuration.GetSection(DeviceOptions.Section));
        services.AddValidatedOptions<ModelRegistryOptions>(configuration.GetSection(ModelRegistryOptions.Section));
        services.AddValidatedOptions<JobLimits>(configuration.GetSection(JobLimits.Section));
        services.AddValidatedOptions<TenantOptions>(configuration.GetSection(TenantOptions.Section));
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
        // Simulated devices replace the real ones (Devices:Simulated): a simulation silo never touches torch.
        if (devices.Simulated.Count > 0) services.AddSingleton<IDeviceRunner, SimulatedDevices>();
        else services.AddSingleton<IDeviceRunner, TorchDeviceRunner>();
        services.TryAddSingleton<IFaultInjector, NoFaults>();
        services.AddPlacementDirector<DevicePlacementStrategy, DevicePlacementDirector>();
        services.AddHostedService<WorkerStarter>();
        if (devices.CpuThreads > 0) TorchSharp.torch.set_num_threads(devices.CpuThreads);
        return silo;
    }

    /// <summary>Every problem of the cluster's configuration sections at once, each naming its key (empty when valid).</summary>
    public static IReadOnlyList<string> ConfigurationProblems(IConfiguration configuration) =>
    [
        .. ValidatedOptions.ProblemsOf<ClusterHostOptions>(configuration.GetSection(ClusterHostOptions.Section)),
        .. ValidatedOptions.ProblemsOf<SchedulerOptions>(configuration.GetSection(SchedulerOptions.Section)),
        .. ValidatedOptions.ProblemsOf<DeviceOptions>(configuration.GetSection(DeviceOptions.Section)),
        .. ValidatedOptions.ProblemsOf<ModelRegistryOptions>(configuration.GetSection(ModelRegistryOptions.Section)),
        .. ValidatedOptions.ProblemsOf<JobLimits>(configuration.GetSection(JobLimits.Section)),
        .. ValidatedOptions.ProblemsOf<TenantOptions>(configuration.GetSection(TenantOptions.Section)),
    ];
}
