using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grains.Hosting;
using Grains.Interfaces;
using Grains.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Xunit.Abstractions;

namespace Cluster.Tests;

/// <summary>
/// Cluster:Tls on two real silo processes: they form one cluster over mutual TLS and run a job (HTTP API), a stock
/// Orleans client without a certificate, or with one from another CA, cannot even connect to the gateway, and a
/// client with a cluster certificate connects but still reaches only the API grain.
/// </summary>
public sealed class ClusterTlsTests(ITestOutputHelper output) : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("scm-tls-").FullName;

    [Fact]
    public async Task Silos_talk_mutual_tls_and_a_client_without_a_cluster_certificate_cannot_connect()
    {
        using var ca = NewCa("scm test cluster CA");
        using var otherCa = NewCa("somebody else's CA");
        var silo = Write("silo", NewLeaf(ca, "scm-silo"), ca);
        var trusted = Write("operator", NewLeaf(ca, "scm-operator"), ca);
        var stranger = Write("stranger", NewLeaf(otherCa, "scm-silo"), ca);

        var serviceId = "scm-tls-" + Guid.NewGuid().ToString("N")[..10];
        var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
        var settings = new Dictionary<string, string>
        {
            ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
            ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu",
            ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = Path.Combine(folder, "blobs"), ["Models:Registry:tiny"] = TestModels.TinyCard,
            ["Tenants:AdminKeyHash"] = adminHash, ["HttpApi:Enabled"] = "true",
            ["Cluster:Tls:Enabled"] = "true", ["Cluster:Tls:CertificatePath"] = silo.CertificatePath!,
            ["Cluster:Tls:KeyPath"] = silo.KeyPath!, ["Cluster:Tls:CaPath"] = silo.CaPath!,
        };
        await using var first = SiloProcess.Start("tls-a", settings);
        await using var second = SiloProcess.Start("tls-b", settings);
        try
        {
            await Task.WhenAll(first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)), second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)));

            // No certificate, or one of another CA: the handshake fails, no call gets through.
            foreach (var (name, tls) in new[] { ("no certificate", (ClusterTlsOptions?)null), ("another CA's certificate", stranger) })
            {
                var e = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAndCallAsync(first.GatewayPort, serviceId, tls, adminKey));
                output.WriteLine($"{name}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }

            // A cluster certificate: connected, both silos listed (they reached each other over TLS), API only.
            var view = await ConnectAndCallAsync(first.GatewayPort, serviceId, trusted, adminKey);
            Assert.Equal(["tls-a", "tls-b"], view.Silos.Select(s => s.Name));

            // And the cluster works across both silos: a job through the HTTP API completes.
            var tenantKey = await CreateTenantAsync(first.GatewayPort, serviceId, trusted, adminKey);
            using var http = new HttpClient { BaseAddress = second.HttpBase };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tenantKey);
            var submitted = await http.PostAsync("v1/jobs?jobId=tls-job", HttpApiTesting.Json(MalformedInputs.ValidJson));
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            string? state = null;
            while (DateTime.UtcNow < deadline && state is not ("Completed" or "Failed"))
            {
                await Task.Delay(200);
                state = (await HttpApiTesting.JsonOf(await http.GetAsync("v1/jobs/tls-job"))).GetProperty("state").GetString();
            }
            Assert.Equal("Completed", state);
        }
        catch
        {
            output.WriteLine(File.ReadAllText(first.LogPath));
            output.WriteLine(File.ReadAllText(second.LogPath));
            throw;
        }
    }

    /// <summary>A stock Orleans client (optionally with TLS) that asks the API grain for the cluster view.</summary>
    static async Task<ClusterView> ConnectAndCallAsync(int gatewayPort, string serviceId, ClusterTlsOptions? tls, string adminKey)
    {
        using var host = await StartClientAsync(gatewayPort, serviceId, tls);
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            await Assert.ThrowsAsync<ApiAuthException>(() => client.GetGrain<ISchedulerGrain>(0).Snapshot());
            return await client.GetGrain<IClusterApiGrain>(0).Cluster(adminKey).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally { await host.StopAsync(); }
    }

    static async Task<string> CreateTenantAsync(int gatewayPort, string serviceId, ClusterTlsOptions tls, string adminKey)
    {
        using var host = await StartClientAsync(gatewayPort, serviceId, tls);
        var api = host.Services.GetRequiredService<IClusterClient>().GetGrain<IClusterApiGrain>(0);
        var key = (await api.CreateTenant(adminKey, "tls-tenant")).ApiKey;
        await host.StopAsync();
        return key;
    }

    static async Task<IHost> StartClientAsync(int gatewayPort, string serviceId, ClusterTlsOptions? tls)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
                .Configure<ClusterOptions>(o => { o.ClusterId = serviceId; o.ServiceId = serviceId; })
                .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10))
                // A refused handshake must fail the start quickly instead of retrying for long.
                .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            if (tls is not null) client.UseConfiguredTls(tls);
        });
        var host = builder.Build();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await host.StartAsync(deadline.Token); }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    static X509Certificate2 NewCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    static X509Certificate2 NewLeaf(X509Certificate2 ca, string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>PEM files as a Kubernetes TLS Secret would mount them (tls.crt, tls.key, ca.crt).</summary>
    ClusterTlsOptions Write(string name, X509Certificate2 leaf, X509Certificate2 ca)
    {
        var dir = Directory.CreateDirectory(Path.Combine(folder, name)).FullName;
        File.WriteAllText(Path.Combine(dir, "tls.crt"), leaf.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "tls.key"), leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(dir, "ca.crt"), ca.ExportCertificatePem());
        return new ClusterTlsOptions
        {
            Enabled = true, CertificatePath = Path.Combine(dir, "tls.crt"), KeyPath = Path.Combine(dir, "tls.key"), CaPath = Path.Combine(dir, "ca.crt"),
        };
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
