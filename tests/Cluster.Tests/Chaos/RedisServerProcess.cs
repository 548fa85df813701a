using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cluster.Tests.Chaos;

/// <summary>
/// A private redis-server for tests that crash it: its own free port and temp data folder, append-only file with an
/// fsync per write (so a SIGKILL loses nothing that was acknowledged), stopped by its pid. The shared Redis of
/// infra/services.sh is never touched.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    readonly string dataDir = Directory.CreateTempSubdirectory("scm-chaos-redis-").FullName;
    Process? process;

    RedisServerProcess(int port) => Port = port;

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";
    public int? Pid => process is { HasExited: false } running ? running.Id : null;

    public static async Task<RedisServerProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var redis = new RedisServerProcess(TestEnvironment.FreeLoopbackPort());
        try
        {
            await redis.RestartAsync(cancellationToken);
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts (again) on the same port and data folder; returns once it answers PING with its data loaded.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (Pid is not null) throw new InvalidOperationException("redis-server is still running.");
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", dataDir,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
        })
        {
            start.ArgumentList.Add(argument);
        }
        process = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-server (is it installed? infra/services.sh installs it).");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} while starting on port {Port}.");
            // While it replays the append-only file Redis answers -LOADING; only +PONG means the data is there.
            if (await PingAsync(cancellationToken) == "+PONG") return;
            if (clock.Elapsed > StartTimeout) throw new TimeoutException($"redis-server on port {Port} did not answer within {StartTimeout}.");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>SIGKILL by pid: no chance to save or close connections politely.</summary>
    public async Task KillAsync()
    {
        if (process is null) return;
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(dataDir, recursive: true); }
        catch (IOException) { } // a leftover temp folder is harmless
    }

    async Task<string?> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[64];
            int read = await stream.ReadAsync(buffer, timeout.Token);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).TrimEnd();
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
