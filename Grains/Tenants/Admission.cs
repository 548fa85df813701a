using Grains.Interfaces;

namespace Grains.Tenants;

/// <summary>A tenant's quota check of one job, as <see cref="TenantGrain.Admit"/> applies it.</summary>
public static class Admission
{
    /// <summary>Quotas that only a released reservation can make room in.</summary>
    public static readonly string[] ReservationQuotas = ["maxRunningJobs", "maxQueuedFrames", "framesPerDay"];

    /// <summary>Every quota the job would exceed, each naming the quota, the limit and the usage.</summary>
    public static List<FieldError> QuotaRefusals(TenantQuota q, TenantUsage u, JobSpec spec)
    {
        var quotas = new List<FieldError>();
        if (spec.Frames > q.MaxFramesPerJob)
            quotas.Add(Quota("maxFramesPerJob", $"the job has {spec.Frames} frames, the limit is {q.MaxFramesPerJob}"));
        if (spec.OutputSize > q.MaxOutputSize)
            quotas.Add(Quota("maxOutputSize", $"the job asks for {spec.OutputSize} px, the limit is {q.MaxOutputSize}"));
        if (u.RunningJobs + 1 > q.MaxRunningJobs)
            quotas.Add(Quota("maxRunningJobs", $"{u.RunningJobs} of {q.MaxRunningJobs} jobs are queued or running"));
        if (u.QueuedFrames + spec.Frames > q.MaxQueuedFrames)
            quotas.Add(Quota("maxQueuedFrames", $"{u.QueuedFrames} frames queued + {spec.Frames} would exceed {q.MaxQueuedFrames}"));
        if (q.DeviceSecondsPerDay > 0 && u.DeviceSeconds24h >= q.DeviceSecondsPerDay)
            quotas.Add(Quota("deviceSecondsPerDay", $"{u.DeviceSeconds24h:F1} of {q.DeviceSecondsPerDay:F1} device-seconds used in the last 24 h"));
        if (q.FramesPerDay > 0 && u.Frames24h + u.QueuedFrames + spec.Frames > q.FramesPerDay)
            quotas.Add(Quota("framesPerDay", $"{u.Frames24h} frames rendered in the last 24 h + {u.QueuedFrames} queued + {spec.Frames} would exceed {q.FramesPerDay}"));
        return quotas;
    }

    /// <summary>"quota maxRunningJobs: ...": on its own (a log, a CLI line) the message still says a quota refused the job, not the spec.</summary>
    static FieldError Quota(string quota, string detail) => new(quota, $"quota {quota}: {detail}");
}
