namespace Cluster.Tests.Chaos;

/// <summary>
/// The process chaos and outage tests each run three silo processes plus their own Redis and Azurite: they run one at a
/// time, after the parallel tests, so they neither starve each other nor the rest of the suite on a 2-core machine.
/// Filter them with `--filter Category=Chaos` (or out with `Category!=Chaos`).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "Chaos";
}
