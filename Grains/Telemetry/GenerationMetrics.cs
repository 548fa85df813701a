using System.Diagnostics.Metrics;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Grains.Telemetry;

/// <summary>
/// The cluster's own metrics (meter <see cref="MeterName"/>), one instance per silo from DI so that in-process test
/// silos do not share instruments. Names are OpenTelemetry style (dotted, unit in the instrument's unit); the
/// Prometheus exporter turns <c>scm.frames.completed</c> with unit <c>{frame}</c> into <c>scm_frames_completed_total</c>
/// and unit <c>s</c> into a <c>_seconds</c> suffix. What each one mirrors:
/// <list type="bullet">
/// <item><c>scm.frames.completed</c> {tenant, model}: OpenCue's <c>cue_frames_completed_total</c> (per show) and
/// Triton's <c>nv_inference_count</c> (inferences, not requests); frames/s is its rate.</item>
/// <item><c>scm.batch.size</c> {model, device}: a histogram of frames per network batch; its count is Triton's
/// <c>nv_inference_exec_count</c> (executions) and sum / count its average dynamic batch size.</item>
/// <item><c>scm.batch.duration</c> {model, device}: sampling + PNG encoding + storing, per batch; OpenCue's
/// <c>cue_frame_runtime_seconds</c> histogram, in seconds as OpenTelemetry's semantic conventions ask (Triton's
/// microsecond counters predate them).</item>
/// <item><c>scm.scheduler.queue.depth</c> {tenant} and <c>scm.scheduler.leases.outstanding</c>: gauges like Triton's
/// <c>nv_inference_pending_request_count</c> and OpenCue's <c>cue_dispatch_waiting_total</c>.</item>
/// <item><c>scm.item.failures</c> {tenant, reason}: Triton's <c>nv_inference_request_failure</c> {reason}.</item>
/// <item><c>scm.device.busy.time</c> {device} and <c>scm.device.utilization</c>: Triton's <c>nv_gpu_utilization</c>
/// (0..1); the counter follows OpenTelemetry's <c>*.time</c> convention (like <c>process.cpu.time</c>).</item>
/// <item><c>scm.model.load.duration</c> {model, device}: Triton's model load duration, as a histogram in seconds.</item>
/// <item><c>scm.scheduler.call.duration</c> {call}: time in the scheduler grain's own code per call (offer, lease,
/// release, expiry_scan): queue and lease-table work only, not messaging or waiting; like Orleans' own
/// <c>orleans-app-requests-latency</c>, but per scheduler operation. <c>bench scale</c> reads it per leased batch.</item>
/// </list>
/// Labels are deliberately low-cardinality: tenant, model, device, reason, state; never a job id. The tenant label is
/// off unless <c>Metrics:TenantLabels</c> is true: the scrape endpoint needs no key, and tenant names are other
/// tenants' business (without it each series is the sum over tenants).
/// </summary>
public sealed class GenerationMetrics
{
    public const string MeterName = "Scm.Cluster";
    public const string SchedulerCallDuration = "scm.scheduler.call.duration";
    static readonly TimeSpan UtilizationWindow = TimeSpan.FromMinutes(1);

    readonly Counter<long> framesCompleted;
    readonly Histogram<int> batchSize;
    readonly Histogram<double> batchDuration;
    readonly Counter<long> leasesGranted;
    readonly Counter<long> leasesExpired;
    readonly Counter<long> itemFailures;
    readonly Counter<long> itemRetries;
    readonly Counter<long> jobsCompleted;
    readonly Counter<double> deviceBusy;
    readonly Counter<double> tenantDeviceTime;
    readonly Histogram<double> modelLoad;
    readonly Histogram<double> schedulerCall;
    readonly TimeProvider time;
    readonly Dictionary<string, Queue<(long At, double Seconds)>> busyWindows = new();
    // Published by the scheduler grain on this silo; null when the scheduler lives elsewhere (then nothing is exported).
    volatile SchedulerGauges? scheduler;

    readonly bool tenantLabels;

    sealed record SchedulerGauges(Measurement<long>[] QueueDepth, int LeasesOutstanding);

    public GenerationMetrics(IMeterFactory meters, TimeProvider? time = null, bool tenantLabels = false)
    {
        this.time = time ?? TimeProvider.System;
        this.tenantLabels = tenantLabels;
        var meter = meters.Create(MeterName);
        framesCompleted = meter.CreateCounter<long>("scm.frames.completed", "{frame}",
            "Frames rendered and stored, counted once per frame by the job's coordinator.");
        batchSize = meter.CreateHistogram("scm.batch.size", "{frame}", "Frames per network batch a worker sampled.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        batchDuration = meter.CreateHistogram("scm.batch.duration", "s", "Time from sampling start to the last frame of a batch stored.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] });
        leasesGranted = meter.CreateCounter<long>("scm.scheduler.leases.granted", "{lease}", "Leases the scheduler handed to workers.");
        leasesExpired = meter.CreateCounter<long>("scm.scheduler.leases.expired", "{lease}",
            "Leases the scheduler expired (reason: timeout or silo_left); their items count as failed attempts.");
        itemFailures = meter.CreateCounter<long>("scm.item.failures", "{item}", "Failed attempts of work items, by reason.");
        itemRetries = meter.CreateCounter<long>("scm.item.retries", "{item}", "Failed work items that their coordinator queued again.");
        jobsCompleted = meter.CreateCounter<long>("scm.jobs.completed", "{job}", "Jobs that reached a terminal state (state: completed, failed, cancelled).");
        deviceBusy = meter.CreateCounter<double>("scm.device.busy.time", "s", "Seconds a device spent sampling; its rate is the busy fraction.");
        tenantDeviceTime = meter.CreateCounter<double>("scm.tenant.device.time", "s",
            "Device-seconds spent on a tenant's frames (shared by frames when tenants share a batch).");
        modelLoad = meter.CreateHistogram("scm.model.load.duration", "s", "Time to load a model onto a device.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
        schedulerCall = meter.CreateHistogram(SchedulerCallDuration, "s",
            "Time in the scheduler grain's own code per call (queue and lease-table work; not messaging or waiting).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1] });
        meter.CreateObservableGauge("scm.scheduler.queue.depth", () => scheduler?.QueueDepth ?? [], "{frame}",
            "Frames queued at the scheduler per tenant (exported by the silo that hosts the scheduler).");
        meter.CreateObservableGauge("scm.scheduler.leases.outstanding",
            () => scheduler is { } s ? [new Measurement<int>(s.LeasesOutstanding)] : Array.Empty<Measurement<int>>(), "{lease}",
            "Leases granted and not yet released or expired (exported by the silo that hosts the scheduler).");
        meter.CreateObservableGauge("scm.device.utilization", ObserveUtilization, "1",
            "Fraction of the last minute a device spent sampling.");
    }

    public void FramesCompleted(string tenant, string model, int frames) =>
        framesCompleted.Add(frames, Tags(tenant, ("model", model)));

    /// <summary>A worker sampled one network batch: size, device time, and each item's tenant share of it.</summary>
    public void BatchSampled(string model, string device, IReadOnlyList<WorkItem> items, double seconds)
    {
        int frames = items.Sum(i => i.FrameCount);
        batchSize.Record(frames, Tag("model", model), Tag("device", device));
        deviceBusy.Add(seconds, Tag("device", device));
        if (!tenantLabels) tenantDeviceTime.Add(seconds);
        else
            foreach (var tenant in items.GroupBy(i => i.Tenant))
                tenantDeviceTime.Add(seconds * tenant.Sum(i => i.FrameCount) / Math.Max(1, frames), Tag("tenant", tenant.Key));
        lock (busyWindows)
        {
            if (!busyWindows.TryGetValue(device, out var window)) busyWindows[device] = window = new();
            long now = time.GetTimestamp();
            window.Enqueue((now, seconds));
            Trim(window, now); // bounded even if nobody scrapes
        }
    }

    public void BatchStored(string model, string device, TimeSpan elapsed) =>
        batchDuration.Record(elapsed.TotalSeconds, Tag("model", model), Tag("device", device));

    public void LeaseGranted() => leasesGranted.Add(1);

    public void LeaseExpired(bool siloLeft) => leasesExpired.Add(1, Tag("reason", siloLeft ? FailureReason.SiloLeft : FailureReason.LeaseTimeout));

    public void ItemFailed(string tenant, string reason) => itemFailures.Add(1, Tags(tenant, ("reason", reason)));

    public void ItemRetried(string tenant) => itemRetries.Add(1, Tags(tenant));

    public void JobCompleted(string tenant, JobState state) =>
        jobsCompleted.Add(1, Tags(tenant, ("state", state.ToString().ToLowerInvariant())));

    public void ModelLoaded(string model, string device, TimeSpan elapsed) =>
        modelLoad.Record(elapsed.TotalSeconds, Tag("model", model), Tag("device", device));

    /// <summary>One scheduler call (<see cref="SchedulerCall"/>) spent <paramref name="seconds"/> in the grain's own code.</summary>
    public void SchedulerCallTook(string call, double seconds) => schedulerCall.Record(seconds, Tag("call", call));

    /// <summary>
    /// The scheduler's current queue and lease table; it publishes on its periodic scan, so the gauges lag by at most
    /// one scan interval. <paramref name="tenants"/> null withdraws the gauges (the scheduler deactivated here).
    /// </summary>
    public void PublishScheduler(IEnumerable<TenantQueue>? tenants, int leasesOutstanding) =>
        scheduler = tenants is null ? null : new SchedulerGauges(
            tenantLabels
                ? tenants.Select(t => new Measurement<long>(t.QueuedFrames, Tag("tenant", t.Tenant))).ToArray()
                : [new Measurement<long>(tenants.Sum(t => (long)t.QueuedFrames))],
            leasesOutstanding);

    IEnumerable<Measurement<double>> ObserveUtilization()
    {
        var result = new List<Measurement<double>>();
        lock (busyWindows)
        {
            long now = time.GetTimestamp();
            foreach (var (device, window) in busyWindows)
            {
                Trim(window, now);
                double busy = window.Sum(w => w.Seconds);
                result.Add(new Measurement<double>(Math.Min(1, busy / UtilizationWindow.TotalSeconds), Tag("device", device)));
            }
        }
        return result;
    }

    void Trim(Queue<(long At, double Seconds)> window, long now)
    {
        while (window.Count > 0 && time.GetElapsedTime(window.Peek().At, now) > UtilizationWindow) window.Dequeue();
    }

    static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    /// <summary>The other tags, plus the tenant's only when tenant labels are on.</summary>
    System.Diagnostics.TagList Tags(string tenant, params (string Key, string Value)[] others)
    {
        var tags = new System.Diagnostics.TagList();
        if (tenantLabels) tags.Add("tenant", tenant);
        foreach (var (key, value) in others) tags.Add(key, value);
        return tags;
    }
}

/// <summary>The values of the <c>call</c> label of <c>scm.scheduler.call.duration</c>.</summary>
public static class SchedulerCall
{
    public const string Offer = "offer";
    public const string Lease = "lease";
    public const string Release = "release";
    public const string ExpiryScan = "expiry_scan";
}

/// <summary>The closed set of values of the <c>reason</c> label of failures (free-text reasons would explode it).</summary>
public static class FailureReason
{
    /// <summary>A test's fault injector refused the item.</summary>
    public const string Injected = "injected";
    /// <summary>Loading the model or sampling the batch threw.</summary>
    public const string Sampling = "sampling";
    /// <summary>Storing a frame or reporting the item to its coordinator threw.</summary>
    public const string Store = "store";
    /// <summary>The worker reported frames that do not belong to the item.</summary>
    public const string WrongFrames = "wrong_frames";
    /// <summary>The lease was not released within Scheduler:LeaseTimeout.</summary>
    public const string LeaseTimeout = "lease_timeout";
    /// <summary>The silo of the leasing worker left the cluster.</summary>
    public const string SiloLeft = "silo_left";
}

public static class GenerationMetricsHosting
{
    /// <summary>One <see cref="GenerationMetrics"/> per service provider (per silo), on that provider's meter factory.</summary>
    /// <param name="tenantLabels">Label series with tenant names (configuration Metrics:TenantLabels).</param>
    public static IServiceCollection AddGenerationMetrics(this IServiceCollection services, bool tenantLabels = false)
    {
        services.AddMetrics();
        services.TryAddSingleton(sp => new GenerationMetrics(sp.GetRequiredService<IMeterFactory>(), tenantLabels: tenantLabels));
        return services;
    }
}
