using System.CommandLine;

namespace ScmTools.Tests;

/// <summary>Runs one scm-tools command in-process, as a user would type it, capturing what it writes to stderr (and stdout).
/// Safe because the test collections do not run in parallel (xunit.runner.json).</summary>
static class CommandLine
{
    public static async Task<(int Exit, string Errors)> Invoke(Command command, params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(command);
        var console = Console.Error;
        var errors = new StringWriter();
        Console.SetError(errors);
        try
        {
            return (await root.Parse(args).InvokeAsync(), errors.ToString());
        }
        finally
        {
            Console.SetError(console);
        }
    }

    public static async Task<(int Exit, string Output, string Errors)> InvokeCapturingOutput(Command command, params string[] args)
    {
        var console = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var (exit, errors) = await Invoke(command, args);
            return (exit, output.ToString(), errors);
        }
        finally
        {
            Console.SetOut(console);
        }
    }
}
