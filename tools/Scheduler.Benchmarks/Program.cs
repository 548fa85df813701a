using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Short runs in this process by default (no generated project to build): a few minutes on a 2-core machine.
// Pass BenchmarkDotNet's own options after `--`, e.g. `--filter '*Lease*'`.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Scheduler.Benchmarks.FairShareQueueBenchmarks).Assembly).Run(args, config);
