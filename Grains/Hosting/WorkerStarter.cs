using Grains.Interfaces;
using Grains.Placement;
using Grains.Workers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Grains.Hosting;

/// <summary>Activates one worker grain per local device once the silo is up, and keeps them activated.</summary>
public sealed class WorkerStarter(
    IGrainFactory grains, ILocalSiloDetails silo, DeviceInventory devices, IHostApplicationLifetime lifetime, ILogger<WorkerStarter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        if (devices.Simulated)
            logger.LogWarning("SIMULATION: silo {Silo} serves {Count} simulated devices (Devices:Simulated); they run no model and store placeholder frames",
                silo.Name, devices.Devices.Count);
        else
            logger.LogInformation("Silo {Silo} serves devices: {Devices}", silo.Name, string.Join(", ", devices.Devices));
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var device in devices.Devices)
            {
                try { await grains.GetGrain<IWorkerGrain>(WorkerKey.Of(silo.Name, device)).Start(); }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Could not start worker for {Device}", device);
                }
            }
            try { await Task.Delay(TimeSpan.FromSeconds(10), stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
