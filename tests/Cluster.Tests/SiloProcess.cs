using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cluster.Tests;

/// <summary>A real scm-silo process (the Silo project's build output), stopped by pid on dispose.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    readonly Process process;
    public string Name { get; }
    public int GatewayPort { get; }
    public string LogPath { get; }

    SiloProcess(Process process, string name, int gatewayPort, string logPath)
    {
        this.process = process;
        Name = name;
        GatewayPort = gatewayPort;
        LogPath = logPath;
    }

    public int Pid => process.Id;

    public static SiloProcess Start(string name, IDictionary<string, string> settings)
    {
        int siloPort = FreePort(), gatewayPort = FreePort();
        var logPath = Path.Combine(Path.GetTempPath(), $"scm-silo-{name}-{Guid.NewGuid():N}.log");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scm-silo.dll"));
        var all = new Dictionary<string, string>(settings)
        {
            ["Cluster:SiloName"] = name, ["Cluster:SiloPort"] = siloPort.ToString(), ["Cluster:GatewayPort"] = gatewayPort.ToString(),
        };
        foreach (var (key, value) in all) info.ArgumentList.Add($"--{key}={value}");
        var process = Process.Start(info)!;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, name, gatewayPort, logPath);
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
