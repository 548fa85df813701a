using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cluster.Tests.Scmctl;

/// <summary>
/// A TCP proxy in front of a silo's HTTP port that cuts every connection after <c>cutAfter</c>, as a dying silo or
/// an impatient load balancer would, and records each request head it forwarded (to see Last-Event-ID come back).
/// </summary>
sealed class CuttingProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly Uri target;
    readonly TimeSpan cutAfter;
    readonly CancellationTokenSource stop = new();
    readonly Task loop;
    readonly List<string> heads = [];
    int cuts;

    public CuttingProxy(Uri target, TimeSpan cutAfter)
    {
        this.target = target;
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
        using (var upstream = new TcpClient())
        using (var cut = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
        {
            try
            {
                await upstream.ConnectAsync(target.Host, target.Port, cut.Token);
                cut.CancelAfter(cutAfter);
                var toServer = PumpAsync(client.GetStream(), upstream.GetStream(), record: true, cut.Token);
                var toClient = PumpAsync(upstream.GetStream(), client.GetStream(), record: false, cut.Token);
                await Task.WhenAny(toServer, toClient);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException) { }
            if (cut.IsCancellationRequested && !stop.IsCancellationRequested) Interlocked.Increment(ref cuts);
            client.Client.Close(0); // a reset, as from a killed process
        }
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
