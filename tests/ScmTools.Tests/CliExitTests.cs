namespace ScmTools.Tests;

/// <summary>The exit codes every long scm-tools command shares (CliExit).</summary>
[Trait("Category", "Unit")]
public class CliExitTests
{
    [Fact]
    public async Task Finished_work_exits_0_and_prints_nothing()
    {
        var error = new StringWriter();
        Assert.Equal(0, await CliExit.RunAsync(() => Task.CompletedTask, error));
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public async Task User_errors_exit_2_with_their_message_and_no_stack_trace()
    {
        foreach (Exception userError in new Exception[] { new CliException("--times: bad"), new ArgumentOutOfRangeException("Lr", "--lr must be > 0") })
        {
            var error = new StringWriter();
            Assert.Equal(2, await CliExit.Run(() => throw userError, error));
            Assert.Contains(userError is CliException ? "--times: bad" : "--lr must be > 0", error.ToString());
            Assert.DoesNotContain(" at ", error.ToString());
        }
    }

    [Fact]
    public async Task Cancelled_work_exits_130()
    {
        var error = new StringWriter();
        Assert.Equal(130, await CliExit.RunAsync(() => Task.FromCanceled(new CancellationToken(canceled: true)), error));
        Assert.Equal("Cancelled.", error.ToString().Trim());
    }

    [Fact]
    public async Task A_bug_keeps_its_exception()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => CliExit.Run(() => throw new InvalidOperationException("bug"), new StringWriter()));
    }
}
