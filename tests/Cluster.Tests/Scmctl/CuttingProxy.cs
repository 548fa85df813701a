using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// A TCP proxy in front of silos' HTTP ports, like a load balancer: each connection goes to the first target that
/// accepts it (a stopped silo is skipped). With <c>cutAfter</c> it cuts every connection after that time, as a dying
/// silo or an impatient load balancer would. It records each request head it forwarded (to see Last-Event-ID come back).
/// </summary>
sealed class CuttingProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly Uri[] targets;
    readonly TimeSpan? cutAfter;
    readonly CancellationTokenSource stop = new();
    readonly Task loop;
    readonly List<string> heads = [];
    int cuts;

    public CuttingProxy(Uri target, TimeSpan cutAfter) : this([target], cutAfter) { }

    public CuttingProxy(Uri[] targets, TimeSpan? cutAfter)
    {
        this.targets = targets;
        this.cutAfter = cutAfter;
        listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        loop = Task.Run(AcceptAsync);
    }

    public Uri Url { get; }
    public int Cuts => Volatile.Read(ref cuts);

    public IReadOnlyList<string> RequestHeads
    {
        get { lock (heads) return heads.ToList(); }
    }

    async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var cut = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
        {
            using var upstream = await ConnectAsync(cut.Token);
            if (upstream is null) return; // no target up: the client sees the connection close
            try
            {
                if (cutAfter is { } after) cut.CancelAfter(after);
                var toServer = PumpAsync(client.GetStream(), upstream.GetStream(), record: true, cut.Token);
                var toClient = PumpAsync(upstream.GetStream(), client.GetStream(), record: false, cut.Token);
                await Task.WhenAny(toServer, toClient);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException) { }
            if (cut.IsCancellationRequested && !stop.IsCancellationRequested) Interlocked.Increment(ref cuts);
            client.Client.Close(0); // a reset, as from a killed process
        }
    }

    async Task<TcpClient?> ConnectAsync(CancellationToken cancellationToken)
    {
        foreach (var target in targets)
        {
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(target.Host, target.Port, cancellationToken);
                return upstream;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                upstream.Dispose(); // that one is down: the next
            }
        }
        return null;
    }

    async Task PumpAsync(NetworkStream from, NetworkStream to, bool record, CancellationToken cancellationToken)
    {
        var buffer = new byte[16384];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (record)
                {
                    var text = Encoding.ASCII.GetString(buffer, 0, read);
                    if (text.StartsWith("GET ", StringComparison.Ordinal) || text.StartsWith("POST ", StringComparison.Ordinal))
                        lock (heads) heads.Add(text);
                }
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        await loop;
        stop.Dispose();
    }
}
