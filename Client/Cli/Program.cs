using System.CommandLine;
using Cli;

var root = new RootCommand("sCM generation cluster: run jobs on the cluster, the demo, training, evaluation and benchmarks.");
root.Subcommands.Add(DemoCommand.Create());
foreach (var command in ClusterCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(TrainCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(EvalCommands.Create());
// Ctrl+C / SIGTERM cancel the running command; give it time to finish cleanly (training saves a checkpoint).
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
