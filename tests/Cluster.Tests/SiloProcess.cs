using System.Diagnostics;
using System.Globalization;

namespace Cluster.Tests;

/// <summary>A real scm-silo process (the Silo project's build output), stopped by pid on dispose.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    readonly Process process;
    public string Name { get; }
    public int GatewayPort { get; }
    /// <summary>The silo's HTTP endpoint (health, metrics, API when enabled) on loopback.</summary>
    public Uri HttpBase { get; }
    public string LogPath { get; }

    SiloProcess(Process process, string name, int gatewayPort, int httpPort, string logPath)
    {
        this.process = process;
        Name = name;
        GatewayPort = gatewayPort;
        HttpBase = new Uri($"http://127.0.0.1:{httpPort}/");
        LogPath = logPath;
    }

    public int Pid => process.Id;

    /// <summary>The Cluster:InternalCallSecret of every silo this test process starts (unless a test sets its own).</summary>
    public static readonly string InternalCallSecret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static SiloProcess Start(string name, IDictionary<string, string> settings)
    {
        int siloPort = TestEnvironment.FreeLoopbackPort(), gatewayPort = TestEnvironment.FreeLoopbackPort(), httpPort = TestEnvironment.FreeLoopbackPort();
        var logPath = Path.Combine(Path.GetTempPath(), $"scm-silo-{name}-{Guid.NewGuid():N}.log");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scm-silo.dll"));
        var all = new Dictionary<string, string>(settings)
        {
            ["Cluster:SiloName"] = name,
            ["Cluster:SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Http:Port"] = httpPort.ToString(CultureInfo.InvariantCulture),
        };
        // Silos that are to form one cluster share the secret that proves a call comes from one of them.
        all.TryAdd("Cluster:InternalCallSecret", InternalCallSecret);
        foreach (var (key, value) in all) info.ArgumentList.Add($"--{key}={value}");
        var process = Process.Start(info)!;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, name, gatewayPort, httpPort, logPath);
    }

    /// <summary>Polls /readyz until the silo reports itself an active cluster member.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = HttpBase, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"silo {Name} exited with code {process.ExitCode}; log: {LogPath}");
            try
            {
                if ((await http.GetAsync("readyz")).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"silo {Name} not ready after {timeout}; log: {LogPath}");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Connects a client to silo processes that are still starting: the gateway may not be listening yet, so retry
    /// until <paramref name="timeout"/> (default 60 s).
    /// </summary>
    public static async Task<(Microsoft.Extensions.Hosting.IHost Host, ClusterClient.GenerationClient Client)> ConnectWithRetryAsync(
        ClusterClient.ClientConnectionOptions options, string apiKey, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            try { return await ClusterClient.ClientHost.ConnectAsync(options, apiKey); }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline) { await Task.Delay(500); }
        }
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: the graceful stop an orchestrator asks for (Process.Kill would be SIGKILL).</summary>
    public void Terminate()
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>For a silo expected to stop by itself (e.g. refused configuration): its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
