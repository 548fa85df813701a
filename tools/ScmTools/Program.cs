using System.CommandLine;
using ScmTools;

var root = new RootCommand("scm-tools: the demo, training, evaluation and benchmarks of the sCM generation cluster " +
                           "(they need the model). Jobs on a running cluster: scmctl (Client/Scmctl), over the HTTP API.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(TrainCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(EvalCommands.Create());
root.Subcommands.Add(DoctorCommand.Create());
// Ctrl+C / SIGTERM cancel the running command; give it time to finish cleanly (training saves a checkpoint).
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
