using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using static Cluster.Tests.Scmctl.ScmctlProcess;

namespace Cluster.Tests.Scmctl;

/// <summary>A silo with Http:CertificatePath serves its API over HTTPS only; scmctl reaches it when it trusts the certificate.</summary>
public sealed class ScmctlHttpsTests
{
    [Fact]
    public async Task With_a_certificate_the_api_speaks_https_and_scmctl_uses_it()
    {
        var folder = Path.Combine(Path.GetTempPath(), "scm-https-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            using var certificate = SelfSigned();
            var pfx = Path.Combine(folder, "silo.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"));
            var pem = Path.Combine(folder, "ca.pem");
            await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem());

            var (adminKey, adminHash) = ClusterHarness.NewAdminKey();
            var serviceId = "scm-https-" + Guid.NewGuid().ToString("N")[..10];
            await using var silo = SiloProcess.Start("https-1", new Dictionary<string, string>
            {
                ["Cluster:Clustering"] = "Redis", ["Cluster:RedisConnectionString"] = ClusterHarness.RedisConnectionString,
                ["Cluster:ServiceId"] = serviceId, ["Cluster:ClusterId"] = serviceId, ["Devices:Devices"] = "cpu",
                ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = Path.Combine(folder, "blobs"), ["Tenants:AdminKeyHash"] = adminHash,
                ["Http:CertificatePath"] = pfx, ["Http:CertificatePassword"] = "test-password",
            });
            var https = new UriBuilder(silo.HttpBase) { Scheme = "https" }.Uri;
            using var trusting = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() },
            })
            { BaseAddress = https, Timeout = TimeSpan.FromSeconds(5) };
            await WaitUntilReadyAsync(trusting, TimeSpan.FromSeconds(90));

            // Plain HTTP on the same port gets no API.
            using var plain = new HttpClient { BaseAddress = silo.HttpBase, Timeout = TimeSpan.FromSeconds(5) };
            var plainAnswer = await Record.ExceptionAsync(async () => Assert.NotEqual(HttpStatusCode.OK, (await plain.GetAsync("readyz")).StatusCode));
            Assert.True(plainAnswer is null or HttpRequestException, $"{plainAnswer}");

            // scmctl over HTTPS, trusting the silo's certificate like a private CA (OpenSSL's SSL_CERT_FILE).
            var list = await RunAsync(https, adminKey, TimeSpan.FromSeconds(60), ["tenant", "list"], ("SSL_CERT_FILE", pem));
            Assert.True(list.ExitCode == 0, list.ToString());
            Assert.Contains("TENANT", list.Stdout);
            // Without trusting it: one line naming the TLS failure at once (not retried until the deadline), exit 7, no stack trace.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var untrusted = await RunAsync(https, adminKey, TimeSpan.FromSeconds(60), ["tenant", "list", "--timeout", "20"]);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}: retried?");
            Assert.Equal(7, untrusted.ExitCode);
            var line = AssertOneLineError(untrusted);
            Assert.Contains("SSL", line);
            Assert.Contains("certificate", line); // the cause, not "see inner exception"
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=scm-test-silo", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    static async Task WaitUntilReadyAsync(HttpClient http, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if ((await http.GetAsync("readyz")).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the HTTPS silo did not get ready");
            await Task.Delay(500);
        }
    }
}
