using System.CommandLine;

namespace ScmTools.Tests;

/// <summary>Runs one scm-tools command in-process, as a user would type it, capturing what it writes to stderr.</summary>
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
}
