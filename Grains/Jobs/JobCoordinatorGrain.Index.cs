using Grains.Interfaces;
using Microsoft.Extensions.Logging;

namespace Grains.Jobs;

/// <summary>The coordinator's side of its tenant's job index: the position it reserved, and placing itself there.</summary>
public sealed partial class JobCoordinatorGrain
{
    public async Task<long?> IndexPosition()
    {
        if (!Job.Exists) return null;
        if (Job.IndexPosition is null)
        {
            // A job stored before the index had positions: found by a scan (it was indexed then) and stored, so once.
            Job.IndexPosition = await Index(Job.Tenant).PositionOf(JobId);
            await Writer.PersistAsync();
        }
        return Job.IndexPosition;
    }

    /// <summary>Places the job in its tenant's index unless this activation has (best effort: the next beat or the job's end retries).</summary>
    async Task PlaceInIndexAsync()
    {
        if (indexed) return;
        try
        {
            if (Job.IndexPosition is { } position) await Index(Job.Tenant).Place(position, JobId);
            else await IndexPosition();
            indexed = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Job {Job}: placing it in its tenant's index failed; the next beat retries", JobId);
        }
    }

    IJobIndexGrain Index(string tenant) => GrainFactory.GetGrain<IJobIndexGrain>(tenant);
}
