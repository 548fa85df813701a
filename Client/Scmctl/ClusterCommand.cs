using System.CommandLine;

namespace Scmctl;

/// <summary>`scmctl cluster` (admin key): silos, devices with what each is rendering right now, queue depth per tenant.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var command = new Command("cluster", "Silos, devices (workers) with their current lease, and queue depth (admin).");
        command.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var cluster = await client.ClusterAsync(ct);
            var scheduler = cluster.Scheduler;
            Console.WriteLine($"silos ({cluster.Silos.Length}):");
            foreach (var silo in cluster.Silos) Console.WriteLine($"  {silo.Name,-24} {silo.Address,-28} {silo.Status}");
            Console.WriteLine($"devices ({scheduler.Workers.Length}):");
            foreach (var w in scheduler.Workers)
            {
                Console.WriteLine($"  {w.WorkerId,-32} frames {w.FramesDone,8}  busy {w.BusySeconds,8:F1} s  model {w.LoadedModel ?? "-"}");
                var leases = scheduler.Leases.Where(l => l.WorkerId == w.WorkerId).ToList();
                if (leases.Count == 0) Console.WriteLine("      lease: none (idle)");
                foreach (var lease in leases)
                {
                    var jobs = string.Join(", ", lease.Jobs.Select(j => $"{j.Tenant}/{j.JobId} ({j.Frames} frames)"));
                    var left = lease.ExpiresAt - DateTime.UtcNow;
                    Console.WriteLine($"      lease {lease.LeaseId.ToString("N")[..8]}: {jobs}; expires in {Math.Max(0, left.TotalSeconds):F0} s");
                }
                if (w.LastError is not null) Console.WriteLine($"      last error: {CliContext.OneLine(w.LastError)}");
            }
            Console.WriteLine($"queue: {scheduler.Tenants.Sum(t => t.QueuedFrames)} frames in {scheduler.Tenants.Sum(t => t.QueuedItems)} items; " +
                              $"{scheduler.LeasesOutstanding} leases out, {scheduler.LeasesExpired} expired");
            foreach (var t in scheduler.Tenants)
                Console.WriteLine($"  tenant {t.Tenant,-16} queued {t.QueuedFrames,6} frames  usage {t.DecayedUsage,8:F1} s  weight {t.Weight}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
