namespace Grains.Jobs;

/// <summary>
/// At most one usage report per interval from a job to its tenant grain. Reports are cumulative, so a skipped one
/// loses nothing: the next report, the heartbeat (<see cref="Dirty"/>) or the job's end sends the latest totals.
/// Why: one tenant grain serves every job of its tenant and writes its state per report; a report per item queued
/// every device's completions behind it (bench scale). Grain-owned, not thread-safe.
/// </summary>
public sealed class ProgressThrottle(TimeSpan interval, TimeProvider time)
{
    DateTimeOffset last = DateTimeOffset.MinValue;

    /// <summary>Progress was made that no report has carried yet.</summary>
    public bool Dirty { get; private set; }

    /// <summary>Records new progress; true when it should be reported now.</summary>
    public bool Changed()
    {
        Dirty = true;
        return time.GetUtcNow() - last >= interval;
    }

    /// <summary>Call as a report starts (it carries everything so far).</summary>
    public void Reporting()
    {
        Dirty = false;
        last = time.GetUtcNow();
    }
}
