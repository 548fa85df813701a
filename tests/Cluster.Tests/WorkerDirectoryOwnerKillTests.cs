using System.Diagnostics;
using Cluster.Tests.Chaos;
using Grains.Interfaces;
using Grains.Placement;
using Grains.Workers;
using Orleans.Runtime;

namespace Cluster.Tests;

/// <summary>
/// Issue 16, item 7, with real silo processes: when a silo dies (SIGKILL), Orleans deactivates the activations on the
/// other silos whose entry in its default grain directory (a hash ring over the silos) was held by the dead silo. A worker
/// whose lease loop ran as one endless timer tick could never finish that deactivation, so it sampled on while every call
/// to it (the silo's own keep-alive Start(), operators' GetInfo()) waited until it timed out.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public class WorkerDirectoryOwnerKillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    const int DevicesPerSilo = 3;
    static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task After_a_SIGKILL_of_the_silo_holding_their_directory_entries_the_workers_of_other_silos_answer_start_again()
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var ct = budget.Token;
        // Idle simulated workers (no torch): each sits in its lease loop, long-polling the scheduler. Three per silo,
        // so that the silo we kill almost surely holds the directory entry of some worker of another silo.
        await using var cluster = await ChaosCluster.StartAsync(output, extraSettings: new Dictionary<string, string>
        {
            ["Devices:Simulated:Count"] = DevicesPerSilo.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Orleans' own line when it deactivates activations for a dead directory owner ("LocalGrainDirectory is
            // deactivating N activations because silo ... entered status Dead and was the primary directory partition ...").
            ["Logging:LogLevel:Orleans.Runtime.GrainDirectory"] = "Information",
            // The test calls the workers and the management grain directly.
            ["Tenants:RestrictClientCalls"] = "false",
        }, cancellationToken: ct);
        try
        {
            var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            var addresses = cluster.Silos.ToDictionary(s => s.Name, s => hosts.Single(h => h.SiloName == s.Name).SiloAddress);
            var workers = (from silo in cluster.Silos
                           from device in SimulatedDevices.Names(DevicesPerSilo)
                           let grain = cluster.Client.GetGrain<IWorkerGrain>(WorkerKey.Of(silo.Name, device))
                           select (Silo: silo.Name, Grain: grain, Owner: DirectoryOwner(grain.GetGrainId(), addresses.Values))).ToList();
            foreach (var w in workers)
                await WorkerAnswers.WithinAsync(w.Grain, "at start-up", TimeSpan.FromSeconds(60), output.WriteLine, quietWhenPrompt: true, ct);

            var victim = cluster.Silos.OrderByDescending(s => workers.Count(w => w.Silo != s.Name && w.Owner == addresses[s.Name])).First();
            var affected = workers.Where(w => w.Silo != victim.Name && w.Owner == addresses[victim.Name]).ToList();
            output.WriteLine($"SIGKILL to {victim.Name} ({addresses[victim.Name]}), directory owner of {affected.Count} workers of other silos: " +
                string.Join(", ", affected.Select(w => w.Grain.GetPrimaryKeyString())));
            Assert.NotEmpty(affected);

            var clock = Stopwatch.StartNew();
            victim.Kill();
            while (!await cluster.IsDeclaredDeadAsync(victim.Name))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{victim.Name} was not declared dead within 60 s");
                await Task.Delay(250, ct);
            }
            output.WriteLine($"{victim.Name} declared dead after {clock.Elapsed.TotalSeconds:F1} s");
            // Let the survivors apply the new membership (that is when they deactivate the affected workers).
            await Task.Delay(TimeSpan.FromSeconds(2), ct);

            foreach (var (_, grain, _) in affected) await WorkerAnswers.WithinAsync(grain, "after the kill", AnswerLimit, output.WriteLine, ct: ct);
            // Past the keep-alive's period: the silos' own Start() calls (WorkerStarter) went through too, or came back.
            await Task.Delay(TimeSpan.FromSeconds(12), ct);
            foreach (var (_, grain, _) in affected) await WorkerAnswers.WithinAsync(grain, "12 s later", TimeSpan.FromSeconds(5), output.WriteLine, ct: ct);
            var keepAlive = cluster.LogLines("start worker for").Concat(cluster.LogLines("started again after")).ToList();
            foreach (var line in keepAlive) output.WriteLine($"  keep-alive: {line}");
            // The path under test was taken: Orleans deactivated the survivors' activations whose entries the dead silo held.
            var deactivations = cluster.LogLines("was the primary directory partition").ToList();
            foreach (var line in deactivations) output.WriteLine($"  directory: {line}");
            Assert.NotEmpty(deactivations);
        }
        catch
        {
            cluster.KeepLogs = true;
            cluster.DumpLogs();
            throw;
        }
    }

    /// <summary>
    /// The silo whose partition of Orleans' default grain directory (LocalGrainDirectory, a ring of the active silos by
    /// consistent hash) holds <paramref name="grain"/>'s entry: the last silo whose hash is at most the grain's uniform
    /// hash, else the last silo of the ring (LocalGrainDirectory.CalculateGrainDirectoryPartition).
    /// </summary>
    static SiloAddress DirectoryOwner(GrainId grain, IEnumerable<SiloAddress> silos)
    {
        var ring = silos.OrderBy(s => s.GetConsistentHashCode()).ThenBy(s => s).ToList();
        int hash = unchecked((int)grain.GetUniformHashCode());
        return ring.LastOrDefault(s => s.GetConsistentHashCode() <= hash) ?? ring[^1];
    }
}
