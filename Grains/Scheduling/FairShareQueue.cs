using Grains.Interfaces;

namespace Grains.Scheduling;

/// <summary>
/// Pending work items across tenants, handed out by weighted fair share: the tenant with the lowest
/// decayed usage / weight goes first (usage halves every half-life, as in Slurm's fair-share factor); within a
/// tenant, higher job priority first, then oldest. A lease is filled with further items that can share the
/// same network batch (same model and sampling schedule), from any tenant in the same fair order.
/// Not thread-safe: owned by the scheduler grain.
/// </summary>
public sealed class FairShareQueue(TimeSpan halfLife, TimeProvider time)
{
    sealed class Tenant(string name)
    {
        public string Name { get; } = name;
        public double Weight { get; set; } = 1;
        public double Usage { get; set; }
        public DateTimeOffset UsageAt { get; set; }
        public SortedSet<WorkItem> Pending { get; } = new(ItemOrder.Instance);
        public int QueuedFrames { get; set; }
    }

    readonly Dictionary<string, Tenant> tenants = new();
    readonly HashSet<ItemAttempt> queued = new();
    readonly Dictionary<string, HashSet<string>> blocklist = new();

    public int Count => queued.Count;

    /// <summary>False when the same (job, item, attempt) is already queued.</summary>
    public bool Add(WorkItem item)
    {
        if (!queued.Add(item.AttemptKey)) return false;
        var tenant = TenantFor(item.Tenant);
        tenant.Pending.Add(item);
        tenant.QueuedFrames += item.FrameCount;
        return true;
    }

    public bool Contains(WorkItem item) => queued.Contains(item.AttemptKey);

    public int RemoveJob(string jobKey)
    {
        int removed = 0;
        foreach (var tenant in tenants.Values)
            removed += tenant.Pending.RemoveWhere(item =>
            {
                if (item.JobKey != jobKey) return false;
                queued.Remove(item.AttemptKey);
                tenant.QueuedFrames -= item.FrameCount;
                return true;
            });
        blocklist.Remove(jobKey);
        return removed;
    }

    public void Blocklist(string jobKey, string workerId)
    {
        if (!blocklist.TryGetValue(jobKey, out var workers)) blocklist[jobKey] = workers = new HashSet<string>();
        workers.Add(workerId);
    }

    public void SetWeight(string tenant, double weight) => TenantFor(tenant).Weight = Math.Max(weight, 1e-6);

    /// <summary>Adds device-seconds (may be negative to correct an estimate) to a tenant's decayed usage.</summary>
    public void Charge(string tenant, double seconds)
    {
        var t = TenantFor(tenant);
        t.Usage = Math.Max(0, DecayedUsage(t) + seconds);
        t.UsageAt = time.GetUtcNow();
    }

    /// <summary>
    /// Removes and returns the next lease's items for a worker (empty when nothing is eligible). <paramref name="liveWorkers"/>
    /// are the workers that can take work now: a blocklist steers a job away from a worker only while another of them is
    /// not blocklisted for it (see <see cref="Eligible"/>).
    /// </summary>
    public List<WorkItem> Take(string workerId, int maxFrames, IReadOnlyCollection<string> liveWorkers)
    {
        var order = tenants.Values.Where(t => t.Pending.Count > 0)
            .OrderBy(t => DecayedUsage(t) / t.Weight).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        var taken = new List<WorkItem>();
        WorkItem? first = null;
        foreach (var tenant in order)
        {
            first = tenant.Pending.FirstOrDefault(item => Eligible(item, workerId, liveWorkers));
            if (first is not null) break;
        }
        if (first is null) return taken;
        string key = first.SamplingKey;
        int frames = 0;
        foreach (var tenant in order)
            foreach (var item in tenant.Pending)
            {
                if (frames >= maxFrames) break;
                if (item.SamplingKey != key || !Eligible(item, workerId, liveWorkers)) continue;
                if (taken.Count > 0 && frames + item.FrameCount > maxFrames) continue;
                taken.Add(item);
                frames += item.FrameCount;
            }
        foreach (var item in taken)
        {
            var tenant = tenants[item.Tenant];
            tenant.Pending.Remove(item);
            tenant.QueuedFrames -= item.FrameCount;
            queued.Remove(item.AttemptKey);
        }
        return taken;
    }

    public TenantQueue[] Snapshot() => tenants.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => new TenantQueue
    {
        Tenant = t.Name, QueuedItems = t.Pending.Count, QueuedFrames = t.QueuedFrames, DecayedUsage = DecayedUsage(t), Weight = t.Weight,
    }).ToArray();

    /// <summary>
    /// A blocklisted worker is skipped for a job while some other live worker is not blocklisted for it; once every live
    /// worker is (the others died, or one lost lease blamed the only survivor for all its items), the blocklist yields:
    /// the job's attempts (Scheduler:MaxAttempts) still bound the retries, and the job never waits for a worker that cannot come.
    /// </summary>
    bool Eligible(WorkItem item, string workerId, IReadOnlyCollection<string> liveWorkers) =>
        !(blocklist.TryGetValue(item.JobKey, out var blocked) && blocked.Contains(workerId) && liveWorkers.Any(other => !blocked.Contains(other)));

    double DecayedUsage(Tenant t)
    {
        if (t.Usage == 0) return 0;
        double elapsed = (time.GetUtcNow() - t.UsageAt).TotalSeconds;
        return t.Usage * Math.Pow(0.5, elapsed / halfLife.TotalSeconds);
    }

    Tenant TenantFor(string name)
    {
        if (!tenants.TryGetValue(name, out var tenant)) tenants[name] = tenant = new Tenant(name) { UsageAt = time.GetUtcNow() };
        return tenant;
    }

    sealed class ItemOrder : IComparer<WorkItem>
    {
        public static readonly ItemOrder Instance = new();

        public int Compare(WorkItem? a, WorkItem? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            if (a is null) return -1;
            if (b is null) return 1;
            int c = b.Spec.Priority.CompareTo(a.Spec.Priority);
            if (c == 0) c = a.SubmittedAt.CompareTo(b.SubmittedAt);
            if (c == 0) c = string.CompareOrdinal(a.JobId, b.JobId);
            if (c == 0) c = a.ItemIndex.CompareTo(b.ItemIndex);
            if (c == 0) c = a.Attempt.CompareTo(b.Attempt);
            return c;
        }
    }
}
