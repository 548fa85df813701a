using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Grains.Interfaces;

/// <summary>
/// Options bound from one configuration section that can list their own problems. The one pattern for every
/// section of the silo: <see cref="ValidatedOptions.AddValidatedOptions{T}"/> registers it with an
/// <see cref="IValidateOptions{T}"/> and ValidateOnStart, and the silo's start-up report
/// (<see cref="ValidatedOptions.ProblemsOf{T}"/>) lists every problem of every section at once before anything is used.
/// </summary>
public interface IValidatedOptions
{
    /// <summary>Every problem, each naming its key and what it must be ("Limits:MaxFrames must be in [1, 1000000], got -5").</summary>
    IEnumerable<string> Problems();
}

/// <summary>The <see cref="IValidateOptions{T}"/> of a section: its options' own <see cref="IValidatedOptions.Problems"/>.</summary>
public sealed class ProblemsValidator<T> : IValidateOptions<T> where T : class, IValidatedOptions
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

public static class ValidatedOptions
{
    /// <summary>Binds <typeparamref name="T"/> from <paramref name="section"/>, validated by its problems when the host starts.</summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfigurationSection section)
        where T : class, IValidatedOptions
    {
        services.AddOptions<T>().Configure(options => section.Bind(options)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, ProblemsValidator<T>>());
        return services;
    }

    /// <summary>
    /// The section's problems without a host: a value the binder cannot convert ("abc" for a number, an unknown enum
    /// name) is one problem naming its key; otherwise the bound options' own problems.
    /// </summary>
    public static IReadOnlyList<string> ProblemsOf<T>(IConfigurationSection section) where T : class, IValidatedOptions, new()
    {
        var options = new T();
        try { section.Bind(options); }
        catch (InvalidOperationException e) { return [e.Message]; }
        return options.Problems().ToList();
    }

    /// <summary>The section's values (unchecked: hosts check them with <see cref="ProblemsOf{T}"/> or at start).</summary>
    public static T Read<T>(IConfigurationSection section) where T : class, new()
    {
        var options = new T();
        section.Bind(options);
        return options;
    }
}
