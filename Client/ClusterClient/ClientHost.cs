using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace ClusterClient;

/// <summary>Connects an Orleans client to the cluster (Localhost gateway or Redis membership).</summary>
public static class ClientHost
{
    public static async Task<(IHost Host, GenerationClient Client)> ConnectAsync(ClientConnectionOptions options, string? apiKey = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            if (options.Clustering == "Redis")
            {
                client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(options.RedisConnectionString!));
                client.Configure<ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = options.ServiceId; });
            }
            else
            {
                client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId);
            }
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).WaitAsync(options.CallTimeout + options.CallTimeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or Orleans.Runtime.OrleansMessageRejectionException or System.Net.Sockets.SocketException)
        {
            host.Dispose();
            throw new InvalidOperationException($"Could not connect to the cluster ({options.Clustering}, gateway port {options.GatewayPort}): {e.Message}", e);
        }
        var client = host.Services.GetRequiredService<IClusterClient>();
        return (host, new GenerationClient(client, options, apiKey));
    }
}
