using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using BlobStorage;
using Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ScmTools;

/// <summary>
/// Several silos in this process (localhost clustering on free ports, memory grain state, one shared blob store),
/// each serving simulated devices only (Devices:Simulated). The first silo's co-hosted client talks to the cluster.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    readonly List<IHost> hosts;
    readonly StrongBox<bool> stopping;

    SimulatedCluster(List<IHost> hosts, StrongBox<bool> stopping)
    {
        this.hosts = hosts;
        this.stopping = stopping;
    }

    public IClusterClient Client => hosts[0].Services.GetRequiredService<IClusterClient>();
    public int Silos => hosts.Count;

    /// <summary>Starts <paramref name="silos"/> silos sharing <paramref name="devices"/> simulated devices as evenly as possible.</summary>
    public static async Task<SimulatedCluster> StartAsync(int silos, int devices, IReadOnlyDictionary<string, string?> settings,
        IBlobStore blobs, CancellationToken cancellationToken)
    {
        var ports = FreePorts(2 * silos);
        string serviceId = "scm-bench-scale-" + Guid.NewGuid().ToString("N")[..8];
        var hosts = new List<IHost>();
        // Tearing the silos down makes in-flight calls fail loudly; those errors say nothing about the measurement.
        var stopping = new StrongBox<bool>(false);
        try
        {
            for (int i = 0; i < silos; i++)
            {
                var values = new Dictionary<string, string?>(settings)
                {
                    ["Cluster:SiloName"] = $"sim-silo-{i}", ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId,
                    ["Cluster:SiloPort"] = $"{ports[2 * i]}", ["Cluster:GatewayPort"] = $"{ports[2 * i + 1]}", ["Cluster:PrimarySiloPort"] = $"{ports[0]}",
                    ["Devices:Simulated:Count"] = $"{devices / silos + (i < devices % silos ? 1 : 0)}",
                };
                var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
                var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
                builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
                // Our own warnings (the SIMULATION notice, failures) stay visible; Orleans' start-up chatter does not.
                // One filter rule for all categories (a category rule would take precedence over a global one).
                builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter((category, level) => !Volatile.Read(ref stopping.Value) &&
                    level >= (category?.StartsWith("Grains", StringComparison.Ordinal) == true ? LogLevel.Warning : LogLevel.Error));
                builder.Services.AddSingleton(blobs);
                builder.UseOrleans(silo => silo.UseConfiguredClustering(configuration).AddGenerationCluster(configuration));
                var host = builder.Build();
                hosts.Add(host);
                // The primary first: the others join through it.
                await host.StartAsync(cancellationToken);
            }
            return new SimulatedCluster(hosts, stopping);
        }
        catch
        {
            await new SimulatedCluster(hosts, stopping).DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref stopping.Value, true);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // Secondaries first, then the primary that the localhost membership table lives on.
        await Task.WhenAll(hosts.Skip(1).Select(h => StopQuietly(h, deadline.Token)));
        if (hosts.Count > 0) await StopQuietly(hosts[0], deadline.Token);
        foreach (var host in hosts) host.Dispose();
    }

    static async Task StopQuietly(IHost host, CancellationToken cancellationToken)
    {
        try { await host.StopAsync(cancellationToken); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
    }

    /// <summary>Ports the OS says are free now (another process could take one before the silo binds it; rare).</summary>
    internal static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var l in listeners) l.Start();
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }
}
