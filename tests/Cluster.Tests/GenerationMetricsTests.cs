using System.Diagnostics.Metrics;
using Grains.Interfaces;
using Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests;

/// <summary>The instruments themselves, without a cluster: each provider gets its own, and the observable ones report what they should.</summary>
[Trait("Category", "Unit")]
public class GenerationMetricsTests
{
    sealed class ManualClock : TimeProvider
    {
        public long Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    /// <summary>Collects what one metrics instance records (instruments of other instances share the meter name, not the meter).</summary>
    sealed class Recorder : IDisposable
    {
        readonly MeterListener listener = new();
        public List<(string Name, double Value, Dictionary<string, string?> Tags)> Measurements { get; } = new();

        public Recorder(IMeterFactory owner)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == GenerationMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, owner)) l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            listener.Start();
        }

        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, string?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value?.ToString();
            lock (Measurements) Measurements.Add((instrument.Name, value, copy));
        }

        public List<(string Name, double Value, Dictionary<string, string?> Tags)> Observe()
        {
            Measurements.Clear();
            listener.RecordObservableInstruments();
            return Measurements.ToList();
        }

        public void Dispose() => listener.Dispose();
    }

    static (ServiceProvider Services, GenerationMetrics Metrics) NewInstance(TimeProvider? time = null, bool tenantLabels = true)
    {
        var services = new ServiceCollection().AddGenerationMetrics(tenantLabels).BuildServiceProvider();
        var metrics = time is null ? services.GetRequiredService<GenerationMetrics>() : new GenerationMetrics(services.GetRequiredService<IMeterFactory>(), time, tenantLabels);
        return (services, metrics);
    }

    static WorkItem Item(string tenant, int frames) => new()
    {
        JobId = "j-" + tenant, Tenant = tenant, ItemIndex = 0, Attempt = 0, FirstFrame = 0, FrameCount = frames, Spec = new JobSpec(),
        BlobPrefix = "p/",
    };

    [Fact]
    public void Two_providers_have_separate_instruments_and_a_batch_splits_device_time_by_frames()
    {
        var (first, a) = NewInstance();
        var (second, b) = NewInstance();
        using (first)
        using (second)
        using (var recorder = new Recorder(first.GetRequiredService<IMeterFactory>()))
        {
            a.BatchSampled("m", "cpu", [Item("t1", 3), Item("t2", 1)], seconds: 2.0);
            b.BatchSampled("m", "cpu", [Item("t1", 4)], seconds: 5.0); // the other instance: not seen by this recorder
            var tenantTime = recorder.Measurements.Where(m => m.Name == "scm.tenant.device.time").ToDictionary(m => m.Tags["tenant"]!, m => m.Value);
            Assert.Equal(1.5, tenantTime["t1"], 9);
            Assert.Equal(0.5, tenantTime["t2"], 9);
            Assert.Equal([4.0], recorder.Measurements.Where(m => m.Name == "scm.batch.size").Select(m => m.Value));
            Assert.Equal([2.0], recorder.Measurements.Where(m => m.Name == "scm.device.busy.time").Select(m => m.Value));
        }
    }

    [Fact]
    public void Without_tenant_labels_no_series_names_a_tenant_and_the_sums_stay()
    {
        var (services, metrics) = NewInstance(tenantLabels: false);
        using (services)
        using (var recorder = new Recorder(services.GetRequiredService<IMeterFactory>()))
        {
            metrics.BatchSampled("m", "cpu", [Item("secret-a", 3), Item("secret-b", 1)], seconds: 2.0);
            metrics.FramesCompleted("secret-a", "m", 3);
            metrics.ItemFailed("secret-a", FailureReason.Store);
            metrics.ItemRetried("secret-b");
            metrics.JobCompleted("secret-b", JobState.Completed);
            metrics.PublishScheduler([new TenantQueue { Tenant = "secret-a", QueuedFrames = 5 }, new TenantQueue { Tenant = "secret-b", QueuedFrames = 7 }], 0);
            var all = recorder.Measurements.ToList(); // before Observe(), which starts the list afresh
            all.AddRange(recorder.Observe());
            Assert.DoesNotContain(all, m => m.Tags.ContainsKey("tenant") || m.Tags.Values.Any(v => v?.Contains("secret") == true));
            Assert.Equal([2.0], all.Where(m => m.Name == "scm.tenant.device.time").Select(m => m.Value));
            Assert.Equal([12.0], all.Where(m => m.Name == "scm.scheduler.queue.depth").Select(m => m.Value));
            Assert.Equal("completed", all.Single(m => m.Name == "scm.jobs.completed").Tags["state"]);
        }
    }

    [Fact]
    public void Utilization_is_the_busy_share_of_the_last_minute_and_scheduler_gauges_vanish_when_it_deactivates()
    {
        var clock = new ManualClock();
        var (services, metrics) = NewInstance(clock);
        using (services)
        using (var recorder = new Recorder(services.GetRequiredService<IMeterFactory>()))
        {
            metrics.BatchSampled("m", "cpu", [Item("t", 4)], seconds: 15);
            clock.Advance(TimeSpan.FromSeconds(30));
            metrics.BatchSampled("m", "cpu", [Item("t", 4)], seconds: 15);
            Assert.Equal(0.5, recorder.Observe().Single(m => m.Name == "scm.device.utilization").Value, 9);
            clock.Advance(TimeSpan.FromSeconds(45)); // the first batch is now older than a minute
            Assert.Equal(0.25, recorder.Observe().Single(m => m.Name == "scm.device.utilization").Value, 9);

            Assert.DoesNotContain(recorder.Observe(), m => m.Name.StartsWith("scm.scheduler.", StringComparison.Ordinal));
            metrics.PublishScheduler([new TenantQueue { Tenant = "t", QueuedFrames = 12 }], leasesOutstanding: 2);
            var observed = recorder.Observe();
            Assert.Equal(12, observed.Single(m => m.Name == "scm.scheduler.queue.depth" && m.Tags["tenant"] == "t").Value);
            Assert.Equal(2, observed.Single(m => m.Name == "scm.scheduler.leases.outstanding").Value);
            metrics.PublishScheduler(null, 0);
            Assert.DoesNotContain(recorder.Observe(), m => m.Name.StartsWith("scm.scheduler.", StringComparison.Ordinal));
        }
    }
}
