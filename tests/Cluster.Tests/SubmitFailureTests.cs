using Grains.Interfaces;

namespace Cluster.Tests;

/// <summary>
/// A submit whose coordinator has stored the job but then fails a call into a grain on a silo that just died (found by
/// the scmctl chaos loop, docs/RELIABILITY.md): the job exists, a retry finds it, so it must also run.
/// </summary>
public class SubmitFailureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Stands in for a job index grain whose silo was just killed: adding a job of an "index-down" id fails.</summary>
    sealed class IndexGrainOutage : IIncomingGrainCallFilter
    {
        public Task Invoke(IIncomingGrainCallContext context) =>
            context.InterfaceMethod?.DeclaringType == typeof(IJobIndexGrain) && context.InterfaceMethod.Name == nameof(IJobIndexGrain.Add)
            && context.Request.GetArgument(0) is string jobId && jobId.StartsWith("index-down", StringComparison.Ordinal)
                ? throw new SiloUnavailableException("simulated: the job index grain's silo is not answering")
                : context.Invoke();
    }

    [Fact]
    public async Task A_job_stored_before_a_later_submit_step_failed_still_runs_to_completion()
    {
        await using var harness = await ClusterHarness.StartAsync(silos: 1, configure: silo => silo.AddIncomingGrainCallFilter<IndexGrainOutage>());
        var spec = new JobSpec { Kind = JobKind.ImageSet, ModelId = "tiny", Classes = [1, 2], Frames = 8, OutputSize = 8 };
        var coordinator = harness.Client.GetGrain<IJobCoordinatorGrain>(JobKey.Of("default", "index-down-1"));

        await Assert.ThrowsAsync<SiloUnavailableException>(() => coordinator.Submit(spec, "default"));
        Assert.NotNull(await coordinator.GetStatus()); // stored: a retried submit finds it (409, same spec: that job)

        // Polled all along, as a watching client would, so the activation is never collected and re-activated.
        var status = await JobWaiter.UntilTerminalAsync(harness.Client, "index-down-1", TimeSpan.FromSeconds(60), output.WriteLine);
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(8, status.FramesDone);
    }
}
