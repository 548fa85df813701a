using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ApiClient;

namespace Scmctl;

/// <summary>
/// `scmctl tenant create|list|set-quota|set-weight|rotate-key|revoke-key|usage|admin-key`. All but `usage` and
/// `admin-key` need an admin key (/v1/admin/...); `admin-key` runs offline and prints a bootstrap admin key and its hash line.
/// </summary>
public static class TenantCommands
{
    static readonly Argument<string> Name = new("tenant") { Description = "Tenant id." };

    sealed record QuotaOptions(Option<int?> Jobs, Option<int?> Queued, Option<int?> PerJob, Option<int?> Size, Option<double?> DeviceSeconds, Option<int?> FramesPerDay)
    {
        public static QuotaOptions Add(Command c)
        {
            var q = new QuotaOptions(
                new Option<int?>("--max-running-jobs") { Description = "Jobs queued or running at once." },
                new Option<int?>("--max-queued-frames") { Description = "Frames admitted and not yet rendered." },
                new Option<int?>("--max-frames-per-job") { Description = "Frames per job." },
                new Option<int?>("--max-output-size") { Description = "Frame side in pixels." },
                new Option<double?>("--device-seconds-per-day") { Description = "Device-seconds in a rolling 24 h (0 = unlimited)." },
                new Option<int?>("--frames-per-day") { Description = "Frames in a rolling 24 h (0 = unlimited)." });
            foreach (Option o in new Option[] { q.Jobs, q.Queued, q.PerJob, q.Size, q.DeviceSeconds, q.FramesPerDay }) c.Options.Add(o);
            return q;
        }

        public QuotaChange Build(ParseResult r) => new()
        {
            MaxRunningJobs = r.GetValue(Jobs), MaxQueuedFrames = r.GetValue(Queued), MaxFramesPerJob = r.GetValue(PerJob),
            MaxOutputSize = r.GetValue(Size), DeviceSecondsPerDay = r.GetValue(DeviceSeconds), FramesPerDay = r.GetValue(FramesPerDay),
        };
    }

    public static Command Create()
    {
        var tenant = new Command("tenant", "Tenants, quotas, weights and API keys (admin), and your usage.");
        foreach (var c in new[] { CreateTenant(), ListTenants(), SetQuota(), SetWeight(), RotateKey(), RevokeKey(), Usage(), AdminKey() })
            tenant.Subcommands.Add(c);
        return tenant;
    }

    static Option<string?> WriteKeyFile() => new("--write-key-file") { Description = "Also write the new key to this file (mode 0600)." };

    static Command CreateTenant()
    {
        var c = new Command("create", "Create a tenant and print its first API key (shown once).");
        c.Arguments.Add(Name);
        var admin = new Option<bool>("--admin") { Description = "Give the tenant the admin role." };
        var weight = new Option<double>("--weight") { Description = "Fair-share weight.", DefaultValueFactory = _ => 1 };
        var file = WriteKeyFile();
        c.Options.Add(admin); c.Options.Add(weight); c.Options.Add(file);
        var quota = QuotaOptions.Add(c);
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            PrintKey(await client.CreateTenantAsync(r.GetValue(Name)!, quota.Build(r), r.GetValue(weight), r.GetValue(admin), ct), r.GetValue(file));
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command ListTenants()
    {
        var c = new Command("list", "List tenants with weight, quota and usage.");
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            Console.WriteLine($"{"TENANT",-20} {"ADMIN",-5} {"WEIGHT",6} {"JOBS",9} {"QUEUED FRAMES",15} {"DEVICE-S/24H",18} KEYS");
            foreach (var t in await client.ListTenantsAsync(ct))
                Console.WriteLine($"{t.Id,-20} {(t.IsAdmin ? "yes" : ""),-5} {t.Weight,6:G4} {t.Usage.RunningJobs + "/" + t.Quota.MaxRunningJobs,9} " +
                                  $"{t.Usage.QueuedFrames + "/" + t.Quota.MaxQueuedFrames,15} " +
                                  $"{t.Usage.DeviceSeconds24h.ToString("F1", CultureInfo.InvariantCulture) + "/" + Limit(t.Quota.DeviceSecondsPerDay),18} {t.ActiveKeyIds.Length}");
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command SetQuota()
    {
        var c = new Command("set-quota", "Change a tenant's quotas (only the options given).");
        c.Arguments.Add(Name);
        var quota = QuotaOptions.Add(c);
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            PrintUsage(await client.SetQuotaAsync(r.GetValue(Name)!, quota.Build(r), ct));
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command SetWeight()
    {
        var c = new Command("set-weight", "Set a tenant's fair-share weight (its share of the devices when all tenants are busy).");
        c.Arguments.Add(Name);
        var weight = new Argument<double>("weight") { Description = "Weight in [0.001, 1000] (default 1)." };
        c.Arguments.Add(weight);
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var t = await client.SetWeightAsync(r.GetValue(Name)!, r.GetValue(weight), ct);
            Console.WriteLine($"tenant {t.Id}: weight {t.Weight}");
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command RotateKey()
    {
        var c = new Command("rotate-key", "Issue a new API key for a tenant and revoke its older keys.");
        c.Arguments.Add(Name);
        var keep = new Option<bool>("--keep-old") { Description = "Keep the older keys valid (revoke them later with `revoke-key --key-id`)." };
        var file = WriteKeyFile();
        c.Options.Add(keep); c.Options.Add(file);
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            PrintKey(await client.RotateKeyAsync(r.GetValue(Name)!, r.GetValue(keep), ct), r.GetValue(file));
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command RevokeKey()
    {
        var c = new Command("revoke-key", "Revoke one API key of a tenant, or all of them.");
        c.Aliases.Add("revoke"); // the name before the move to HTTP
        c.Arguments.Add(Name);
        var keyId = new Option<string?>("--key-id") { Description = "The key id (the part after scm_); default: every key of the tenant." };
        c.Options.Add(keyId);
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            Console.WriteLine($"{await client.RevokeAsync(r.GetValue(Name)!, r.GetValue(keyId), ct)} key(s) revoked");
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command Usage()
    {
        var c = new Command("usage", "Usage and quota of your tenant (an admin may name any tenant).");
        var name = new Argument<string?>("tenant") { Description = "Tenant id (default: yours).", Arity = ArgumentArity.ZeroOrOne };
        c.Arguments.Add(name);
        c.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            PrintUsage(r.GetValue(name) is { } tenant ? await client.TenantAsync(tenant, ct) : await client.UsageAsync(ct));
            return ExitCodes.Ok;
        }));
        return c;
    }

    static Command AdminKey()
    {
        var c = new Command("admin-key", "Offline: generate a bootstrap admin key. Prints the key (give it to the admin: SCM_API_KEY or a key file) " +
                                         "and the hash line for the silos' Tenants:AdminKeyHash (env SCM_Tenants__AdminKeyHash).");
        var file = WriteKeyFile();
        c.Options.Add(file);
        c.SetAction(r => CliContext.RunOffline(r, () =>
        {
            var (apiKey, hashLine) = NewAdminKey();
            if (r.GetValue(file) is { } path) { Credentials.Write(path, apiKey); Console.WriteLine($"key written to {path}"); }
            else Console.WriteLine($"admin key (shown once): {apiKey}");
            Console.WriteLine($"silo setting:  Tenants:AdminKeyHash={hashLine}");
            return ExitCodes.Ok;
        }));
        return c;
    }

    /// <summary>
    /// The cluster's key format (Grains.Interfaces.ApiKeys, which this tool cannot reference without Orleans):
    /// "scm_{16 hex keyId}_{base64url of 32 random bytes}", stored as keyId:base64(salt):base64(SHA-256(salt || secret)).
    /// A test checks that the cluster's verifier accepts what this writes.
    /// </summary>
    public static (string ApiKey, string HashLine) NewAdminKey()
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(secret)]);
        return ($"scm_{keyId}_{secret}", $"{keyId}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}");
    }

    static void PrintKey(IssuedKey key, string? file)
    {
        if (file is not null)
        {
            Credentials.Write(file, key.ApiKey);
            Console.WriteLine($"tenant {key.Tenant}: key {key.KeyId} written to {file}");
        }
        else Console.WriteLine($"tenant {key.Tenant}: key {key.KeyId} (shown once; store it in ~/.config/scm/credentials or SCM_API_KEY):\n{key.ApiKey}");
    }

    static void PrintUsage(TenantView t)
    {
        var u = t.Usage;
        var q = t.Quota;
        Console.WriteLine($"tenant {t.Id}{(t.IsAdmin ? " (admin)" : "")}, weight {t.Weight}, {t.ActiveKeyIds.Length} active key(s)");
        Console.WriteLine($"  jobs queued/running  {u.RunningJobs} / {q.MaxRunningJobs}");
        Console.WriteLine($"  frames queued        {u.QueuedFrames} / {q.MaxQueuedFrames}");
        Console.WriteLine($"  device-seconds 24 h  {u.DeviceSeconds24h:F2} / {Limit(q.DeviceSecondsPerDay)}");
        Console.WriteLine($"  frames 24 h          {u.Frames24h} / {Limit(q.FramesPerDay)}");
        Console.WriteLine($"  per job              <= {q.MaxFramesPerJob} frames, <= {q.MaxOutputSize} px");
        Console.WriteLine($"  total                {u.JobsSubmitted} jobs, {u.FramesRendered} frames, {u.DeviceSecondsTotal:F2} device-seconds; {u.JobsRejected} submits rejected");
    }

    static string Limit(double v) => v > 0 ? v.ToString("G6", CultureInfo.InvariantCulture) : "unlimited";
}
