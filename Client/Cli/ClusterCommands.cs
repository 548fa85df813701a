using System.CommandLine;
using System.Diagnostics;
using ClusterClient;
using Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cli;

/// <summary>`scmctl submit|status|watch|list|cancel|fetch|cluster`: the cluster's submission client.</summary>
public static class ClusterCommands
{
    static readonly Option<string?> Redis = new("--redis") { Description = "Redis connection string: discover the cluster through Redis membership (default: localhost gateway). Env: SCM_Client__RedisConnectionString." };
    static readonly Option<int> GatewayPort = new("--gateway-port") { Description = "Localhost gateway port.", DefaultValueFactory = _ => EnvInt("SCM_Client__GatewayPort", 30000) };
    static readonly Option<string> ClusterId = new("--cluster-id") { Description = "Orleans cluster id of the silos (Cluster:ClusterId). Env: SCM_Client__ClusterId.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SCM_Client__ClusterId") ?? new ClientConnectionOptions().ClusterId };
    static readonly Option<string> ServiceId = new("--service-id") { Description = "Orleans service id of the silos (Cluster:ServiceId). Env: SCM_Client__ServiceId.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SCM_Client__ServiceId") ?? new ClientConnectionOptions().ServiceId };
    static readonly Option<double> Timeout = new("--timeout") { Description = "Deadline of each call, seconds.", DefaultValueFactory = _ => 10 };
    static readonly Option<string?> KeyFile = new("--key-file") { Description = "File holding the API key (default: env SCM_API_KEY, then ~/.config/scm/credentials)." };

    public static IEnumerable<Command> Create() => [Submit(), Status(), Watch(), List(), Cancel(), Fetch(), ClusterInfo(), TenantCommands.Create()];

    internal static Command WithConnection(Command command)
    {
        command.Options.Add(KeyFile);
        command.Options.Add(Redis);
        command.Options.Add(GatewayPort);
        command.Options.Add(ClusterId);
        command.Options.Add(ServiceId);
        command.Options.Add(Timeout);
        return command;
    }

    static ClientConnectionOptions Connection(ParseResult r)
    {
        var redis = r.GetValue(Redis) ?? Environment.GetEnvironmentVariable("SCM_Client__RedisConnectionString");
        return new ClientConnectionOptions
        {
            Clustering = redis is null ? "Localhost" : "Redis", RedisConnectionString = redis,
            GatewayPort = r.GetValue(GatewayPort), CallTimeout = TimeSpan.FromSeconds(r.GetValue(Timeout)),
            ClusterId = r.GetValue(ClusterId)!, ServiceId = r.GetValue(ServiceId)!,
        };
    }

    internal static Task<int> WithClient(ParseResult r, CancellationToken ct, Func<GenerationClient, Task<int>> action) =>
        WithHost(r, ct, (_, client, _) => action(client));

    static async Task<int> WithHost(ParseResult r, CancellationToken ct, Func<IHost, GenerationClient, string?, Task<int>> action)
    {
        try
        {
            var apiKey = Credentials.Resolve(r.GetValue(KeyFile));
            var (host, client) = await ClientHost.ConnectAsync(Connection(r), apiKey, ct);
            using (host)
            {
                try { return await action(host, client, apiKey); }
                finally { await host.StopAsync(CancellationToken.None); }
            }
        }
        catch (ApiAuthException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 4;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or ArgumentException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    static Command Submit()
    {
        var command = WithConnection(new Command("submit", "Submit an image set or a video job."));
        var spec = JobSpecOptions.Add(command);
        var watch = new Option<bool>("--watch") { Description = "Show progress until the job finishes." };
        var jobId = new Option<string?>("--job-id") { Description = "Job id (default: generated)." };
        command.Options.Add(watch);
        command.Options.Add(jobId);
        command.SetAction((r, ct) => WithClient(r, ct, async client =>
        {
            var (id, result) = await client.SubmitAsync(spec.Build(r), r.GetValue(jobId), ct);
            if (!result.Accepted)
            {
                // The id is the user's (--job-id), possibly 10,000 characters or a forged log line: bounded and escaped.
                Console.Error.WriteLine($"rejected: job {JobSpecValidator.Echo(id)}");
                foreach (var error in result.Errors) Console.Error.WriteLine($"  {error}");
                return 2;
            }
            Console.WriteLine($"submitted {id}: {result.Status!.FramesTotal} frames in {result.Status.BatchesTotal} work items");
            return r.GetValue(watch) ? await WatchJob(client, id, ct) : 0;
        }));
        return command;
    }

    static readonly Argument<string> JobIdArgument = new("job-id") { Description = "The job's id." };

    static Command Status()
    {
        var command = WithConnection(new Command("status", "Show a job's status."));
        command.Arguments.Add(JobIdArgument);
        command.SetAction((r, ct) => WithClient(r, ct, async client =>
        {
            var status = await client.GetStatusAsync(r.GetValue(JobIdArgument)!, ct);
            if (status is null) { Console.Error.WriteLine($"error: jobId: no job {JobSpecValidator.Echo(r.GetValue(JobIdArgument))} (of your tenant)"); return 1; }
            Print(status);
            return status.State == JobState.Failed ? 3 : 0;
        }));
        return command;
    }

    static Command Watch()
    {
        var command = WithConnection(new Command("watch", "Live progress of a job: frames done, frames/s, ETA."));
        command.Arguments.Add(JobIdArgument);
        command.SetAction((r, ct) => WithClient(r, ct, client => WatchJob(client, r.GetValue(JobIdArgument)!, ct)));
        return command;
    }

    static Command List()
    {
        var command = WithConnection(new Command("list", "List your jobs."));
        command.SetAction((r, ct) => WithClient(r, ct, async client =>
        {
            var jobs = await client.ListAsync(ct);
            Console.WriteLine($"{"JOB",-28} {"STATE",-10} {"FRAMES",-11} {"MODEL",-12} CREATED");
            foreach (var job in jobs)
                Console.WriteLine($"{job.JobId,-28} {job.State,-10} {job.FramesDone + "/" + job.FramesTotal,-11} {job.Spec?.ModelId,-12} {job.CreatedAt:u}");
            return 0;
        }));
        return command;
    }

    static Command Cancel()
    {
        var command = WithConnection(new Command("cancel", "Cancel a queued or running job."));
        command.Arguments.Add(JobIdArgument);
        command.SetAction((r, ct) => WithClient(r, ct, async client =>
        {
            bool cancelled = await client.CancelAsync(r.GetValue(JobIdArgument)!, ct);
            Console.WriteLine(cancelled ? "cancelled" : "not cancelled: the job does not exist or already finished");
            return cancelled ? 0 : 1;
        }));
        return command;
    }

    static Command Fetch()
    {
        var command = WithConnection(new Command("fetch", "Download a completed job's frames, manifest and MP4 from blob storage."));
        command.Arguments.Add(JobIdArgument);
        var output = new Option<string>("--output", "-o") { Description = "Target folder (default: out/<job-id>)." };
        var blob = BlobOptions.Add(command);
        command.Options.Add(output);
        command.SetAction((r, ct) => WithClient(r, ct, async client =>
        {
            var id = r.GetValue(JobIdArgument)!;
            var target = r.GetValue(output) ?? Path.Combine("out", id);
            var files = await client.FetchAsync(id, blob.Create(r), target, ct);
            Console.WriteLine($"{files.Count} files written to {Path.GetFullPath(target)}");
            return 0;
        }));
        return command;
    }

    static Command ClusterInfo()
    {
        var command = WithConnection(new Command("cluster", "Silos, devices (workers) and queue depth."));
        command.SetAction((r, ct) => WithHost(r, ct, async (host, _, apiKey) =>
        {
            // Through the API grain: Orleans' management grain is not reachable from clients.
            var api = host.Services.GetRequiredService<IClusterClient>().GetGrain<IClusterApiGrain>(0);
            var overview = await api.Cluster(apiKey ?? "").WaitAsync(TimeSpan.FromSeconds(r.GetValue(Timeout)), ct);
            Console.WriteLine($"silos ({overview.Silos.Length}):");
            foreach (var silo in overview.Silos) Console.WriteLine($"  {silo.Name,-24} {silo.Address,-28} {silo.Status}");
            Console.WriteLine($"workers ({overview.Scheduler.Workers.Length}):");
            foreach (var w in overview.Scheduler.Workers)
                Console.WriteLine($"  {w.WorkerId,-32} frames {w.FramesDone,8}  busy {w.BusySeconds,8:F1} s  model {w.LoadedModel ?? "-"}");
            Console.WriteLine($"queue: {overview.Scheduler.Tenants.Sum(t => t.QueuedFrames)} frames in {overview.Scheduler.Tenants.Sum(t => t.QueuedItems)} items; " +
                              $"{overview.Scheduler.LeasesOutstanding} leases out, {overview.Scheduler.LeasesExpired} expired");
            foreach (var t in overview.Scheduler.Tenants)
                Console.WriteLine($"  tenant {t.Tenant,-16} queued {t.QueuedFrames,6} frames  usage {t.DecayedUsage,8:F1} s  weight {t.Weight}");
            return 0;
        }));
        return command;
    }

    public static async Task<int> WatchJob(GenerationClient client, string jobId, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int firstFrames = -1;
        JobStatus? last = null;
        bool interactive = !Console.IsOutputRedirected;
        await foreach (var status in client.WatchAsync(jobId, cancellationToken: ct))
        {
            if (firstFrames < 0) firstFrames = status.FramesDone;
            double rate = (status.FramesDone - firstFrames) / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
            var eta = rate > 0 ? TimeSpan.FromSeconds((status.FramesTotal - status.FramesDone) / rate) : (TimeSpan?)null;
            int width = 30, filled = status.FramesTotal == 0 ? 0 : width * status.FramesDone / status.FramesTotal;
            var line = $"{jobId} [{new string('#', filled)}{new string('.', width - filled)}] {status.FramesDone}/{status.FramesTotal} frames " +
                       $"{rate,6:F1} frames/s  ETA {(eta is { } e ? e.ToString(@"hh\:mm\:ss") : "--:--:--")}  {status.State}";
            if (interactive) Console.Write("\r" + line.PadRight(110));
            else Console.WriteLine(line);
            last = status;
        }
        if (interactive) Console.WriteLine();
        if (last is not null) Print(last);
        return last?.State == JobState.Completed ? 0 : 3;
    }

    static void Print(JobStatus s)
    {
        Console.WriteLine($"job {s.JobId}: {s.State}");
        Console.WriteLine($"  frames {s.FramesDone}/{s.FramesTotal}; items queued {s.BatchesQueued}, leased {s.BatchesLeased}, done {s.BatchesDone}/{s.BatchesTotal}; retries {s.Retries}");
        Console.WriteLine($"  device time {s.DeviceSeconds:F2} s; created {s.CreatedAt:u}" + (s.CompletedAt is { } c ? $"; finished {c:u}" : ""));
        if (s.ManifestBlob is not null) Console.WriteLine($"  manifest {s.ManifestBlob}");
        if (s.VideoBlob is not null) Console.WriteLine($"  video    {s.VideoBlob}");
        if (s.Error is not null) Console.WriteLine($"  error: {s.Error}");
        foreach (var w in s.Warnings) Console.WriteLine($"  warning: {w}");
    }

    static int EnvInt(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;
}
