using System.Net;
using System.Reflection;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Cluster.Tests;

/// <summary>
/// The attacker's side of the Orleans gateway: a plain <c>Microsoft.Orleans.Client</c> (none of our client code)
/// that can reach a silo's gateway port. With its own random client id it gets nothing but the public API grain:
/// every internal grain of ours and Orleans' management grain refuse it. With the client id of the silo's hosted
/// client ("hosted-{silo address}", which an earlier version trusted) it cannot even connect. A tenant's data is
/// untouched afterwards.
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class GatewayBypassTests(HttpApiSilo silo, ITestOutputHelper output)
{
    [Fact]
    public async Task A_raw_client_reaches_only_the_api_grain_and_cannot_take_a_silos_hosted_client_id()
    {
        var admin = await ConnectAsync(spoofedId: null);
        var adminApi = admin.GetGrain<IClusterApiGrain>(0);
        var victim = await adminApi.CreateTenant(silo.AdminKey, "gw-victim");
        var before = await adminApi.Usage(silo.AdminKey, "gw-victim");
        var plain = await ConnectAsync(spoofedId: null);
        try
        {
            // With its own client id: every internal grain, ours and Orleans', refuses it.
            int refused = 0;
            foreach (var (call, attempt) in InternalCalls(plain, victim))
            {
                var e = await Assert.ThrowsAsync<ApiAuthException>(() => attempt().WaitAsync(TimeSpan.FromSeconds(20)));
                Assert.Equal(AuthProblem.NotPermitted, e.Problem);
                refused++;
                output.WriteLine($"{call}: {e.Message}");
            }
            Assert.Equal(20, refused);
            // The public door still works for it, and still wants a key.
            var wrong = await Assert.ThrowsAsync<ApiAuthException>(() => plain.GetGrain<IClusterApiGrain>(0).WhoAmI("scm_0000000000000000_x"));
            Assert.NotEqual(AuthProblem.NotPermitted, wrong.Problem);
            Assert.Equal("gw-victim", (await plain.GetGrain<IClusterApiGrain>(0).WhoAmI(victim.ApiKey)).Tenant);

            // With the id of the silo's own hosted client (an earlier version trusted it; the silo addresses come from
            // the manifest every client fetches): the gateway closes the connection. Had it connected, it would also
            // have received the hosted client's responses, so the in-silo HTTP API must still get its answers.
            var silos = admin.ServiceProvider.GetRequiredService<IClusterManifestProvider>().Current.Silos.Keys.Where(a => !a.IsClient).ToList();
            var spoofedId = $"hosted-{Assert.Single(silos).ToParsableString()}";
            Exception? spoofRefused = null;
            IClusterClient? spoofed = null;
            try { spoofed = await ConnectAsync(spoofedId); }
            catch (Exception e) { spoofRefused = e; }
            using (var http = silo.Http(victim.ApiKey))
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/jobs")).StatusCode);
            if (spoofed is not null) await StopAsync(spoofed);
            Assert.NotNull(spoofRefused);
            output.WriteLine($"{spoofedId}: {spoofRefused.GetType().Name}: {spoofRefused.Message.Split('\n')[0]}");
            Assert.Contains("claims to be a silo's hosted client", silo.Logs());

            // Nothing changed: same key, quota and weight; the cluster view is still there for a key holder.
            var after = await adminApi.Usage(silo.AdminKey, "gw-victim");
            Assert.Equal(before.ActiveKeyIds, after.ActiveKeyIds);
            Assert.Equal(before.Quota, after.Quota);
            Assert.Equal(before.Weight, after.Weight);
            var view = await adminApi.Cluster(silo.AdminKey);
            Assert.Equal(["http-on"], view.Silos.Select(s => s.Name));
            var own = await plain.GetGrain<IClusterApiGrain>(0).Cluster(victim.ApiKey);
            Assert.All(own.Scheduler.Tenants, t => Assert.Equal("gw-victim", t.Tenant));
            Assert.Contains("does not come from a silo of this cluster", silo.Logs());
        }
        finally
        {
            await StopAsync(plain);
            await StopAsync(admin);
        }
    }

    static Task StopAsync(IClusterClient client) => client.ServiceProvider.GetRequiredService<IHost>().StopAsync();

    /// <summary>Each call that the earlier bypass used, plus Orleans' management grain (read-only calls only).</summary>
    static (string, Func<Task>)[] InternalCalls(IClusterClient client, IssuedKey victim)
    {
        var tenant = client.GetGrain<ITenantGrain>(victim.Tenant);
        var coordinator = client.GetGrain<IJobCoordinatorGrain>(JobKey.Of(victim.Tenant, "some-job"));
        var scheduler = client.GetGrain<ISchedulerGrain>(0);
        var management = client.GetGrain<IManagementGrain>(0);
        return new (string, Func<Task>)[]
        {
            ("ITenantGrain.GetInfo", () => tenant.GetInfo()),
            ("ITenantGrain.IssueKey", () => tenant.IssueKey(revokeOthers: true)),
            ("ITenantGrain.SetQuota", () => tenant.SetQuota(new QuotaPatch { MaxRunningJobs = 1000 })),
            ("ITenantGrain.Revoke", () => tenant.Revoke(victim.KeyId)),
            ("IApiKeyGrain.Revoke", () => client.GetGrain<IApiKeyGrain>(victim.KeyId).Revoke()),
            ("IJobCoordinatorGrain.GetStatus", () => coordinator.GetStatus()),
            ("IJobCoordinatorGrain.Submit", () => coordinator.Submit(new JobSpec { ModelId = "tiny", Classes = [1], Frames = 4, OutputSize = 32 }, victim.Tenant)),
            ("IJobCoordinatorGrain.IndexPosition", () => coordinator.IndexPosition()),
            ("IJobIndexGrain.List", () => client.GetGrain<IJobIndexGrain>(victim.Tenant).List()),
            ("IJobIndexGrain.Reserve", () => client.GetGrain<IJobIndexGrain>(victim.Tenant).Reserve()),
            ("IJobIndexGrain.Place", () => client.GetGrain<IJobIndexGrain>(victim.Tenant).Place(0, "planted")),
            ("IJobIndexPageGrain.Read", () => client.GetGrain<IJobIndexPageGrain>($"{victim.Tenant}/0").Read(0, 1000)),
            ("IJobIndexPageGrain.Put", () => client.GetGrain<IJobIndexPageGrain>($"{victim.Tenant}/0").Put(0, "planted")),
            ("ITenantDirectoryGrain.Weights", () => client.GetGrain<ITenantDirectoryGrain>(0).Weights()),
            ("ISchedulerGrain.Snapshot", () => scheduler.Snapshot()),
            ("ISchedulerGrain.Lease", () => scheduler.Lease(new LeaseRequest { WorkerId = "evil/cpu", SiloName = "evil", Wait = TimeSpan.Zero })),
            ("IManagementGrain.GetHosts", () => management.GetHosts(onlyActive: true)),
            ("IManagementGrain.GetDetailedHosts", () => management.GetDetailedHosts(onlyActive: true)),
            ("IManagementGrain.GetSimpleGrainStatistics", () => management.GetSimpleGrainStatistics()),
            ("IManagementGrain.GetDetailedGrainStatistics", () => management.GetDetailedGrainStatistics()),
        };
    }

    /// <summary>
    /// A stock Orleans client on the silo's gateway. The client id is set the way an attacker would: Orleans keeps it
    /// in an internal singleton, which reflection overwrites before the client starts.
    /// </summary>
    async Task<IClusterClient> ConnectAsync(string? spoofedId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client => client
            .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, silo.Silo.GatewayPort))
            .Configure<ClusterOptions>(o => { o.ClusterId = silo.ServiceId; o.ServiceId = silo.ServiceId; })
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15)));
        var host = builder.Build();
        if (spoofedId is not null)
        {
            var detailsType = typeof(IClusterClient).Assembly.GetType("Orleans.LocalClientDetails", throwOnError: true)!;
            var details = host.Services.GetRequiredService(detailsType);
            var field = detailsType.GetField("<ClientId>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!;
            // ClientGrainId is internal too: its Create(string) makes "sys.client/{id}".
            var create = field.FieldType.GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(string)])!;
            field.SetValue(details, create.Invoke(null, [spoofedId]));
        }
        // A refused connection makes the client retry: give up after a while.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await host.StartAsync(deadline.Token); }
        catch
        {
            host.Dispose();
            throw;
        }
        return host.Services.GetRequiredService<IClusterClient>();
    }
}
