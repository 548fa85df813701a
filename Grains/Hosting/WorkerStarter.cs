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
    /// <summary>How often each worker is (re)started; Start() is idempotent and re-activates a collected worker.</summary>
    static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Start() answers in one turn; a call that takes longer is held up before the grain (e.g. by an activation that
    /// Orleans is deactivating after a silo died, which lasts one lease of the worker's loop), and the next period tries
    /// again, rather than waiting out Orleans' 30 s response timeout.
    /// </summary>
    static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

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
        var failing = new Dictionary<string, int>();
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var device in devices.Devices)
            {
                try
                {
                    await grains.GetGrain<IWorkerGrain>(WorkerKey.Of(silo.Name, device)).Start().WaitAsync(CallDeadline, stoppingToken);
                    if (failing.Remove(device, out var failures))
                        logger.LogInformation("Worker for {Device} started again after {Failures} failed attempts", device, failures);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // One warning per streak of failures (the worker usually keeps running meanwhile), not one stack per period.
                    int failures = failing[device] = failing.GetValueOrDefault(device) + 1;
                    if (failures == 1) logger.LogWarning("Could not start worker for {Device}; retrying every {Period} s: {Error}", device, Period.TotalSeconds, e.Message);
                    else logger.LogDebug(e, "Could not start worker for {Device} (attempt {Attempt})", device, failures);
                }
            }
            try { await Task.Delay(Period, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
