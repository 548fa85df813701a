using System.CommandLine;
using Scmctl;

var root = new RootCommand("scmctl: submit, follow and fetch jobs on the sCM generation cluster, and administer its tenants, " +
                           "through a silo's HTTP API (--url / SCM_URL). Exit codes: " + ExitCodes.Summary);
foreach (var option in CliContext.GlobalOptions) root.Options.Add(option);
foreach (var command in JobCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(ClusterCommand.Create());
root.Subcommands.Add(TenantCommands.Create());
// Ctrl+C / SIGTERM cancel the running command (a watch or a fetch stops cleanly; a fetch resumes later).
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(5) });
