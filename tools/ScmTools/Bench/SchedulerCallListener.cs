using System.Diagnostics.Metrics;
using Grains.Telemetry;

namespace ScmTools;

/// <summary>
/// Sums the scheduler's <c>scm.scheduler.call.duration</c> histogram per call in this process (the in-process silos of
/// <see cref="SimulatedCluster"/>), as a scrape of the same instrument would. Measurements come from many threads.
/// </summary>
public sealed class SchedulerCallListener : IDisposable
{
    readonly MeterListener listener = new();
    readonly Dictionary<string, (double Seconds, long Calls)> totals = new();

    public SchedulerCallListener()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GenerationMetrics.MeterName && instrument.Name == GenerationMetrics.SchedulerCallDuration)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            string call = "";
            foreach (var tag in tags)
                if (tag.Key == "call") call = tag.Value as string ?? "";
            lock (totals)
            {
                var (sum, count) = totals.GetValueOrDefault(call);
                totals[call] = (sum + seconds, count + 1);
            }
        });
        listener.Start();
    }

    /// <summary>Seconds and calls per call label since the last <see cref="Reset"/>.</summary>
    public Dictionary<string, (double Seconds, long Calls)> Totals()
    {
        lock (totals) return new(totals);
    }

    public void Reset()
    {
        lock (totals) totals.Clear();
    }

    public void Dispose() => listener.Dispose();
}
