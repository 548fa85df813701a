using System.CommandLine;
using ApiClient;

namespace Scmctl;

/// <summary>`scmctl submit|status|watch|list|cancel|fetch`: a tenant's jobs, through the HTTP API.</summary>
public static class JobCommands
{
    static readonly Argument<string> JobIdArgument = new("job-id") { Description = "The job's id." };

    public static IEnumerable<Command> Create() => [Submit(), Status(), Watch(), List(), Cancel(), Fetch()];

    static Command Submit()
    {
        var command = new Command("submit", "Submit an image set or a video job (safe to retry: the job id is chosen before the first attempt).");
        var spec = JobSpecOptions.Add(command);
        var watch = new Option<bool>("--watch") { Description = "Show progress until the job finishes." };
        var jobId = new Option<string?>("--job-id") { Description = "Job id, 1-64 of [A-Za-z0-9-_] (default: generated)." };
        command.Options.Add(watch);
        command.Options.Add(jobId);
        command.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var request = spec.Build(r);
            var id = CheckJobId(r.GetValue(jobId)) ?? ScmApiClient.NewJobId();
            JobView job;
            try
            {
                job = await client.SubmitAsync(request, id, ct);
            }
            catch (ScmApiException e) when (e.Kind is ApiErrorKind.Invalid or ApiErrorKind.Quota or ApiErrorKind.Conflict)
            {
                // Every reason on its own line (the server names each field or quota), as before the move to HTTP.
                Console.Error.WriteLine($"rejected: job {id}");
                foreach (var reason in Reasons(e)) Console.Error.WriteLine($"  {CliContext.OneLine(reason)}");
                return ExitCodes.For(e.Kind);
            }
            Console.WriteLine($"submitted {job.JobId}: {job.FramesTotal} frames in {job.ItemsTotal} work items");
            return r.GetValue(watch) ? await Output.WatchAsync(client, job.JobId, ct) : ExitCodes.Ok;
        }));
        return command;
    }

    static IEnumerable<string> Reasons(ScmApiException e) =>
        e.Problem?.Errors?.SelectMany(f => f.Value) is { } errors && errors.Any() ? errors
        : e.Problem?.Quotas is { Length: > 0 } quotas ? quotas.Select(q => q.Detail)
        : [e.Message];

    static Command Status()
    {
        var command = new Command("status", "Show a job's status (and the silo its coordinator runs on).");
        command.Arguments.Add(JobIdArgument);
        command.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var id = CheckJobId(r.GetValue(JobIdArgument))!;
            var job = await client.GetJobAsync(id, ct) ?? throw NoJob(id);
            Output.Print(job);
            return job.State is JobState.Failed or JobState.Cancelled ? ExitCodes.JobNotCompleted : ExitCodes.Ok;
        }));
        return command;
    }

    static Command Watch()
    {
        var command = new Command("watch", "Live progress of a job (frames done, frames/s, ETA) until it ends; rides through silo losses.");
        command.Arguments.Add(JobIdArgument);
        command.SetAction((r, ct) => CliContext.Run(r, ct, client => Output.WatchAsync(client, CheckJobId(r.GetValue(JobIdArgument))!, ct)));
        return command;
    }

    static Command List()
    {
        var command = new Command("list", "List your jobs, oldest first.");
        command.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var jobs = await client.ListJobsAsync(cancellationToken: ct);
            Console.WriteLine($"{"JOB",-28} {"STATE",-10} {"FRAMES",-11} {"MODEL",-12} {"COORDINATOR",-16} CREATED");
            foreach (var job in jobs)
                Console.WriteLine($"{job.JobId,-28} {job.State,-10} {job.FramesDone + "/" + job.FramesTotal,-11} {job.Spec?.ModelId,-12} {job.CoordinatorSilo ?? "-",-16} {job.CreatedAt:u}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    static Command Cancel()
    {
        var command = new Command("cancel", "Cancel a queued or running job (again: no change).");
        command.Arguments.Add(JobIdArgument);
        command.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var job = await client.CancelAsync(CheckJobId(r.GetValue(JobIdArgument))!, ct);
            Console.WriteLine($"cancelled {job.JobId}: {job.FramesDone}/{job.FramesTotal} frames were rendered");
            return ExitCodes.Ok;
        }));
        return command;
    }

    static Command Fetch()
    {
        var command = new Command("fetch", "Download a completed job's frames, manifest and MP4 through the API, each verified against the manifest's SHA-256; " +
                                           "files already present with the right hash are kept, so an interrupted fetch resumes.");
        command.Arguments.Add(JobIdArgument);
        var output = new Option<string>("--output", "-o") { Description = "Target folder (default: out/<job-id>)." };
        command.Options.Add(output);
        command.SetAction((r, ct) => CliContext.Run(r, ct, async client =>
        {
            var id = CheckJobId(r.GetValue(JobIdArgument))!;
            var target = r.GetValue(output) ?? Path.Combine("out", id);
            var result = await client.FetchAsync(id, target, ct);
            Console.WriteLine($"{result.Downloaded} files downloaded ({result.BytesDownloaded:N0} bytes), {result.Skipped} already present and intact, " +
                              $"all verified; in {Path.GetFullPath(target)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Refused before it becomes a URL: bounded and escaped in the error, never echoed raw.</summary>
    static string? CheckJobId(string? id)
    {
        if (id is null) return null;
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"jobId: must be 1-64 characters from [A-Za-z0-9-_], got {ScmApiException.Echo(id)}");
        return id;
    }

    static ScmApiException NoJob(string id) => new(ApiErrorKind.NotFound, $"jobId: no job {ScmApiException.Echo(id)} (of your tenant)");
}
