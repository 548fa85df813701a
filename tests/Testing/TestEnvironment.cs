using System.Net;
using System.Net.Sockets;

namespace Testing;

/// <summary>Where the test services are. infra/test.sh exports these; the defaults match infra/services.sh.</summary>
public static class TestEnvironment
{
    public const string AzuriteConnectionVariable = "SCM_TEST_AZURITE_CONNECTION";
    public const string AzuriteBinaryVariable = "SCM_TEST_AZURITE_BIN";

    /// <summary>Azurite's published development account; the key is public and only valid for the emulator.</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public const string HowToStartServices =
        "Start the test services with `infra/services.sh start` (installs and starts redis-server on 127.0.0.1:6390 and " +
        "Azurite on 127.0.0.1:10000), or run all tests with `infra/test.sh`. To use another Azurite, set " +
        AzuriteConnectionVariable + ".";

    public static string AzuriteConnectionString =>
        Environment.GetEnvironmentVariable(AzuriteConnectionVariable) is { Length: > 0 } configured
            ? configured
            : DevelopmentConnectionString(10000);

    public static string DevelopmentConnectionString(int port) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={DevelopmentAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    /// <summary>The azurite-blob launcher that infra/services.sh installs into the repository's .tools folder.</summary>
    public static string? FindAzuriteBinary()
    {
        if (Environment.GetEnvironmentVariable(AzuriteBinaryVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, ".tools", "azurite", "node_modules", ".bin", "azurite-blob");
            if (File.Exists(candidate))
            {
                return candidate;
            }

            if (File.Exists(Path.Combine(folder.FullName, "Cluster.sln")))
            {
                break;
            }
        }

        return null;
    }

    static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port free now on every address (silos bind [::]), never handed out before in this process. Drawn from below the
    /// OS's ephemeral range (Linux: 32768-60999): a port the OS picks (bind to port 0) comes from that range, where any
    /// outgoing connection (to Redis, to another silo) can take it between this check and the silo's bind; CI saw a silo
    /// die on "address already in use" that way.
    /// </summary>
    public static int FreeLoopbackPort()
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int port = Random.Shared.Next(20_000, 32_000);
            lock (HandedOut)
                if (!HandedOut.Add(port)) continue;
            if (IsFree(port)) return port;
        }
        throw new InvalidOperationException("no free port in 20000-31999 after 1000 tries");
    }

    static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.IPv6Any, port);
            listener.Server.DualMode = true; // IPv4 too
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
