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
/// that can reach a silo's gateway port. With its own random client id, and with the client id of the silo's hosted
/// client ("hosted-{silo address}", which an earlier version trusted), it must get nothing but the public API grain:
/// every internal grain of ours and Orleans' management grain refuse it, and a tenant's data is untouched afterwards.
/// </summary>
[Collection(HttpApiCollection.Name)]
public sealed class GatewayBypassTests(HttpApiSilo silo, ITestOutputHelper output)
{
    [Fact]
    public async Task A_raw_client_with_its_own_or_a_spoofed_hosted_client_id_reaches_only_the_api_grain()
    {
        var admin = await ConnectAsync(spoofedId: null);
        var adminApi = admin.GetGrain<IClusterApiGrain>(0);
        var victim = await adminApi.CreateTenant(silo.AdminKey, "gw-victim");
        var before = await adminApi.Usage(silo.AdminKey, "gw-victim");

        // What an attacker learns without a key: the silos' addresses, from the manifest every client fetches.
        var silos = admin.ServiceProvider.GetRequiredService<IClusterManifestProvider>().Current.Silos.Keys.ToList();
        Assert.NotEmpty(silos);
        var spoofed = await ConnectAsync(spoofedId: $"hosted-{silos[0].ToParsableString()}");
        var plain = await ConnectAsync(spoofedId: null);
        try
        {
            foreach (var (name, client) in new[] { ("own client id", plain), ("spoofed hosted- id", spoofed) })
            {
                int refused = 0;
                foreach (var (call, attempt) in InternalCalls(client, victim))
                {
                    var e = await Assert.ThrowsAsync<ApiAuthException>(() => attempt().WaitAsync(TimeSpan.FromSeconds(20)));
                    Assert.Equal(AuthProblem.NotPermitted, e.Problem);
                    refused++;
                    output.WriteLine($"{name}: {call}: {e.Message}");
                }
                Assert.Equal(15, refused);
                // The public door still works for it, and still wants a key.
                var wrong = await Assert.ThrowsAsync<ApiAuthException>(() => client.GetGrain<IClusterApiGrain>(0).WhoAmI("scm_0000000000000000_x"));
                Assert.NotEqual(AuthProblem.NotPermitted, wrong.Problem);
                Assert.Equal("gw-victim", (await client.GetGrain<IClusterApiGrain>(0).WhoAmI(victim.ApiKey)).Tenant);
            }

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
            foreach (var client in new[] { spoofed, plain, admin })
                await ((IHost)client.ServiceProvider.GetRequiredService<IHost>()).StopAsync();
        }
    }

    /// <summary>Each call that the earlier bypass used, plus Orleans' management grain (read-only calls only).</summary>
    static IEnumerable<(string, Func<Task>)> InternalCalls(IClusterClient client, IssuedKey victim)
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
            ("IJobIndexGrain.List", () => client.GetGrain<IJobIndexGrain>(victim.Tenant).List()),
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
        await host.StartAsync();
        return host.Services.GetRequiredService<IClusterClient>();
    }
}
