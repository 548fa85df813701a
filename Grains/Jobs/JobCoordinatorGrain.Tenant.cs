using Grains.Interfaces;
using Grains.Telemetry;

namespace Grains.Jobs;

/// <summary>The coordinator's side of its tenant's accounting: cumulative progress, and the release of the reservation.</summary>
public sealed partial class JobCoordinatorGrain
{
    /// <summary>Usage accounting on the tenant grain: cumulative, so a repeated report adds nothing. Best effort.</summary>
    async Task ReportProgressAsync()
    {
        Progress.Reporting();
        try { await GrainFactory.GetGrain<ITenantGrain>(Job.Tenant).JobProgress(JobId, Job.FramesDone, Job.DeviceSeconds); }
        catch (Exception e) { logger.Failure(e, withStack: true, "Job {Job}: could not report progress to tenant {Tenant}", JobId, Job.Tenant); }
    }

    /// <summary>
    /// A terminal job releases its tenant reservation (idempotent on the tenant grain). Until that succeeded the
    /// keep-alive reminder stays, and each tick tries again.
    /// </summary>
    async Task EndedAsync()
    {
        await PlaceInIndexAsync(); // a job that ended before a heartbeat could retry its index call
        if (!Job.TenantReleased)
        {
            try
            {
                await GrainFactory.GetGrain<ITenantGrain>(Job.Tenant).JobEnded(JobId, Job.FramesDone, Job.DeviceSeconds);
                Job.TenantReleased = true;
                await Writer.PersistAsync();
            }
            catch (Exception e)
            {
                logger.Failure(e, withStack: true, "Job {Job}: could not release its reservation on tenant {Tenant}; the reminder retries", JobId, Job.Tenant);
                return;
            }
        }
        await StopKeepAliveAsync();
    }
}
