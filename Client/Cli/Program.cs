using System.CommandLine;
using Cli;

var root = new RootCommand("sCM generation cluster: sample, train, evaluate, and run jobs on the cluster.");
root.Subcommands.Add(TrainCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(EvalCommands.Create());
return await root.Parse(args).InvokeAsync();
