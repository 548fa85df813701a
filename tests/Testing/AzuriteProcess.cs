using System.Diagnostics;

namespace Testing;

/// <summary>
/// A private Azurite for tests that crash it: started from the launcher infra/services.sh installs, on its own port
/// and data folder, and killed by its pid, so the shared Azurite other tests use is never disturbed.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string launcher;
    private readonly TemporaryFolder dataFolder = new();
    private Process? process;

    private AzuriteProcess(string launcher, int port)
    {
        this.launcher = launcher;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => TestEnvironment.DevelopmentConnectionString(Port);

    public int? Pid => process is { HasExited: false } running ? running.Id : null;

    public static async Task<AzuriteProcess> StartAsync()
    {
        var launcher = TestEnvironment.FindAzuriteBinary() ?? throw new InvalidOperationException(
            $"The Azurite launcher (.tools/azurite/node_modules/.bin/azurite-blob, or {TestEnvironment.AzuriteBinaryVariable}) " +
            $"was not found. {TestEnvironment.HowToStartServices}");
        var azurite = new AzuriteProcess(launcher, TestEnvironment.FreeLoopbackPort());
        await azurite.RestartAsync();
        return azurite;
    }

    /// <summary>Starts (again) on the same port and data folder, and returns once it answers HTTP.</summary>
    public async Task RestartAsync()
    {
        if (Pid is not null)
        {
            throw new InvalidOperationException("Azurite is still running.");
        }

        var start = new ProcessStartInfo(launcher)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", dataFolder.Path, "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent",
        })
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {launcher}.");
        // Drain the pipes so a chatty Azurite can never block on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} while starting on port {Port}.");
            }

            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{Port}/devstoreaccount1?comp=list");
                return; // any status: it answers
            }
            catch (HttpRequestException) when (deadline.Elapsed < StartTimeout)
            {
            }
            catch (TaskCanceledException) when (deadline.Elapsed < StartTimeout)
            {
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// SIGTERM by pid, then SIGKILL after <paramref name="grace"/>: Azurite saves its blob metadata on the way out. Use
    /// this when acknowledged writes must survive the outage: Azurite keeps blob metadata in LokiJS with a 5 s autosave,
    /// so a SIGKILL can lose blobs it acknowledged in its last seconds (real Azure Storage commits before it answers).
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited && SendSignal(process.Id, SigTerm) == 0)
        {
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Azurite has been seen ignoring SIGTERM: fall through to SIGKILL.
            }
        }

        await KillAsync();
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGKILL by pid: the harshest outage, with no chance to flush or close connections politely.</summary>
    public async Task KillAsync()
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        dataFolder.Dispose();
    }
}
