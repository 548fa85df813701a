using Scm.Checkpoints;

namespace ScmTools;

/// <summary>An error for the user: printed without a stack trace.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>
/// The one exit-code convention of scm-tools' long commands (train, eval, bench, inspect, t-mid): 0 done, 2 for a user
/// error (one line on the error writer, no stack trace), 130 cancelled (as a shell reports Ctrl+C).
/// </summary>
public static class CliExit
{
    public const int Done = 0, UserError = 2, Cancelled = 130;

    /// <summary>Runs <paramref name="work"/> and maps its outcome to an exit code. User errors are <see cref="CliException"/>,
    /// <see cref="CheckpointException"/> (a bad card) and <see cref="ArgumentException"/> (options validated by the library,
    /// whose messages name the option and its limit); anything else is a bug and keeps its stack trace.</summary>
    public static async Task<int> RunAsync(Func<Task> work, TextWriter error)
    {
        try
        {
            await work();
            return Done;
        }
        catch (Exception e) when (e is CliException or CheckpointException or ArgumentException)
        {
            error.WriteLine(e.Message);
            return UserError;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("Cancelled.");
            return Cancelled;
        }
    }

    /// <summary>Synchronous work (training, evaluation) on the thread pool, with the same exit codes.</summary>
    public static Task<int> Run(Action work, TextWriter error) => RunAsync(() => Task.Run(work), error);
}
