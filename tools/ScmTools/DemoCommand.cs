using System.CommandLine;
using System.Diagnostics;
using BlobStorage;
using ClusterClient;
using Grains.Hosting;
using Grains.Interfaces;
using Grains.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ScmTools;

/// <summary>
/// `scm-tools demo`: hosts a one-silo cluster in this process on embedded defaults (localhost clustering, memory
/// state, local-folder blobs, the shipped sCM) and renders the digits 0..9 morphing into each other.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Render a short video (digits 0..9 morphing) on an in-process cluster; writes PNG frames and an MP4.");
        var output = new Option<string>("--output", "-o") { Description = "Output folder.", DefaultValueFactory = _ => Path.Combine("out", "demo") };
        var frames = new Option<int>("--frames") { Description = "Number of frames.", DefaultValueFactory = _ => 90 };
        var classes = new Option<string>("--classes") { Description = "Keyframe classes.", DefaultValueFactory = _ => "0,1,2,3,4,5,6,7,8,9,0" };
        var seed = new Option<ulong>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 2024UL };
        var size = new Option<int>("--size") { Description = "Frame size in pixels.", DefaultValueFactory = _ => 256 };
        var steps = new Option<int>("--steps") { Description = "Consistency steps.", DefaultValueFactory = _ => 2 };
        foreach (var o in new Option[] { output, frames, classes, seed, size, steps }) command.Options.Add(o);
        command.SetAction((r, ct) => RunAsync(r.GetValue(output)!, new JobSpec
        {
            Kind = JobKind.Video, ModelId = "mnist-scm", Classes = r.GetValue(classes)!.Split(',').Select(int.Parse).ToArray(),
            Frames = r.GetValue(frames), Fps = 15, Seed = r.GetValue(seed), Steps = r.GetValue(steps), OutputSize = r.GetValue(size),
            Mp4 = true, Resize = "bilinear",
        }, ct));
        return command;
    }

    static async Task<int> RunAsync(string output, JobSpec spec, CancellationToken ct)
    {
        var blobRoot = Path.Combine(output, ".blobs");
        // A bootstrap admin key for this in-process cluster only (its hash goes into the silo configuration).
        var (adminKeyId, adminKey, salt, hash) = ApiKeys.Generate();
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:SiloName"] = "demo", ["Cluster:SiloPort"] = "11311", ["Cluster:GatewayPort"] = "30311", ["Cluster:PrimarySiloPort"] = "11311",
            ["Devices:Devices"] = "auto", ["Blob:Provider"] = "Local", ["Blob:LocalPath"] = blobRoot,
            ["Tenants:AdminKeyHash"] = ApiKeys.HashLine(adminKeyId, salt, hash),
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddBlobStore(configuration.GetSection("Blob"));
        builder.UseOrleans(silo => silo.UseConfiguredClustering(configuration).AddGenerationCluster(configuration));
        using var host = builder.Build();
        var clock = Stopwatch.StartNew();
        await host.StartAsync(ct);
        try
        {
            var cluster = host.Services.GetRequiredService<IClusterClient>();
            var connection = new ClientConnectionOptions { CallTimeout = TimeSpan.FromSeconds(30) };
            var admin = new GenerationClient(cluster, connection, adminKey);
            var tenantKey = await admin.CreateTenantAsync("demo", new QuotaPatch { MaxFramesPerJob = Math.Max(spec.Frames, 1), MaxOutputSize = Math.Max(spec.OutputSize, 8) }, cancellationToken: ct);
            var client = new GenerationClient(cluster, connection, tenantKey.ApiKey);
            var (jobId, result) = await client.SubmitAsync(spec, "demo", ct);
            if (!result.Accepted)
            {
                Console.Error.WriteLine("demo job rejected:");
                foreach (var e in result.Errors) Console.Error.WriteLine($"  {e}");
                return 2;
            }
            Console.WriteLine($"Rendering {spec.Frames} frames ({string.Join(" -> ", spec.Classes)}) with the shipped sCM, {spec.Steps} steps, on an in-process silo...");
            int code = await ClusterCommands.WatchJob(client, jobId, ct);
            if (code != 0) return code;
            var files = await client.FetchAsync(jobId, host.Services.GetRequiredService<IBlobStore>(), output, ct);
            var status = await client.GetStatusAsync(jobId, ct);
            Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s: {files.Count} files in {Path.GetFullPath(output)}");
            Console.WriteLine($"  frames: {Path.GetFullPath(Path.Combine(output, "frames"))}");
            if (status?.VideoBlob is not null) Console.WriteLine($"  video:  {Path.GetFullPath(Path.Combine(output, "video.mp4"))}");
            else Console.WriteLine($"  no MP4: {VideoAssembler.MissingFfmpegHint}");
            return 0;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
